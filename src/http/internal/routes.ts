// Internal endpoints: the direct key routes a coordinator forwards to, and gossip. Guarded by CLUSTER_SECRET.
import { Elysia, t } from "elysia";
import type { GossipHandler } from "../../membership/messages.ts";
import { GOSSIP_BODY_BYTES_MAX, inboundGossipSchema } from "../../membership/schema.ts";
import { NodeError } from "../../node/errors.ts";
import type { LimeNode } from "../../node/node.ts";
import { cappedJson, TEXT_PLAIN } from "../body.ts";
import { getResponse, keyParams, setBody } from "../kv/model.ts";
import { errorModel, okText } from "../model.ts";
import { internalGuard } from "./guard.ts";

export type { GossipHandler };

const errors = { 400: errorModel, 401: errorModel, 404: errorModel, 413: errorModel, 503: errorModel };
const internal = (summary: string) => ({ tags: ["internal"], summary });

export function internalRoutes(node: LimeNode, gossip: GossipHandler, secret: string, bodyBytesMax: number) {
  const checkSecret = internalGuard(secret);
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
        const outcome = body.type === "syn" ? gossip.answerSyn(body) : gossip.acceptAck2(body);
        // The sender's own entry lies in the future: nothing of it was applied, and the sender learns its clock is off.
        if (!outcome.ok) throw new NodeError("clock_skew", `gossip carries a ${outcome.refused.kind} beyond this node's clock + MAX_CLOCK_SKEW_MS`);
        return outcome.answer;
      },
      {
        parse: [checkSecret, ...cappedJson(GOSSIP_BODY_BYTES_MAX)],
        body: inboundGossipSchema,
        detail: internal("Gossip: a SYN is answered with an ACK, an ACK2 with done"),
      },
    );
}
