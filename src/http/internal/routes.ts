// Internal endpoints: the direct key routes a coordinator forwards to, and gossip. Guarded by CLUSTER_SECRET.
import { Elysia, t } from "elysia";
import type { Ack, Ack2, Syn } from "../../membership/messages.ts";
import { inboundGossipSchema } from "../../membership/schema.ts";
import type { LimeNode } from "../../node/node.ts";
import { cappedJson, TEXT_PLAIN } from "../body.ts";
import { getResponse, keyParams, setBody } from "../kv/model.ts";
import { errorModel, okText } from "../model.ts";
import { secretGuard } from "./secret.ts";

/** A gossip message names at most MEMBERS_MAX members of a few hundred bytes each; 1 MiB is ample. */
export const GOSSIP_BODY_BYTES_MAX = 1024 * 1024;

/** The two sides of gossip this node answers; the Gossiper provides them. */
export interface GossipHandler {
  answerSyn(syn: Syn): Ack;
  acceptAck2(ack2: Ack2): void;
}

const errors = { 400: errorModel, 401: errorModel, 404: errorModel, 413: errorModel, 503: errorModel };
const internal = (summary: string) => ({ tags: ["internal"], summary });

export function internalRoutes(node: LimeNode, gossip: GossipHandler, secret: string, bodyBytesMax: number) {
  const checkSecret = secretGuard(secret);
  return new Elysia({ name: "internal" })
    .onTransform(checkSecret)
    .post(
      "/api/v1/set/direct",
      async ({ body, set }) => {
        await node.localSet(body.key, body.value, body.ttlMs);
        set.headers["content-type"] = TEXT_PLAIN;
        return "OK";
      },
      {
        parse: [checkSecret, ...cappedJson(bodyBytesMax)],
        body: setBody,
        response: { 200: okText, ...errors },
        detail: internal("Store a key on this node only; never re-routed"),
      },
    )
    .get("/api/v1/direct/get/:key", ({ params }) => node.localGet(params.key), {
      params: keyParams,
      response: { 200: getResponse, ...errors },
      detail: internal("Read a key from this node only"),
    })
    .delete(
      "/api/v1/direct/del/:key",
      async ({ params, set }) => {
        const existed = await node.localDel(params.key);
        set.headers["content-type"] = TEXT_PLAIN;
        return existed ? "1" : "0";
      },
      { params: keyParams, response: { 200: t.String(), ...errors }, detail: internal("Delete a key on this node only") },
    )
    .post(
      "/gossip",
      ({ body }) => {
        if (body.type === "syn") return gossip.answerSyn(body);
        gossip.acceptAck2(body);
        return { type: "done" as const };
      },
      {
        parse: [checkSecret, ...cappedJson(GOSSIP_BODY_BYTES_MAX)],
        body: inboundGossipSchema,
        detail: internal("Gossip: a SYN is answered with an ACK, an ACK2 with done"),
      },
    );
}
