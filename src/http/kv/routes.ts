// GET/SET/DEL and the key listing, as the original's clients call them.
import { Elysia, t } from "elysia";
import { NodeError } from "../../node/errors.ts";
import type { LimeNode } from "../../node/node.ts";
import { cappedJson, TEXT_PLAIN } from "../body.ts";
import { errorModel, okText } from "../model.ts";
import { getResponse, keyParams, keysQuery, keysResponse, replicasResponse, setBody } from "./model.ts";


const errors = { 400: errorModel, 404: errorModel, 413: errorModel, 503: errorModel, 504: errorModel };

function rejectEmptyKey(): never {
  throw new NodeError("bad_request", "key must not be empty");
}

export function kvRoutes(node: LimeNode, bodyBytesMax: number) {
  return new Elysia({ name: "kv", prefix: "/api/v1" })
    .post(
      "/set",
      async ({ body, set }) => {
        await node.set(body.key, body.value, body.ttlMs);
        set.headers["content-type"] = TEXT_PLAIN;
        return "OK";
      },
      {
        parse: cappedJson(bodyBytesMax),
        body: setBody,
        response: { 200: okText, ...errors },
        detail: { tags: ["keys"], summary: "Store a value under a key" },
      },
    )
    .get("/get/:key", ({ params }) => node.get(params.key), {
      params: keyParams,
      response: { 200: getResponse, ...errors },
      detail: { tags: ["keys"], summary: "Read a key" },
    })
    .delete(
      "/del/:key",
      async ({ params, set }) => {
        const existed = await node.del(params.key);
        set.headers["content-type"] = TEXT_PLAIN;
        return existed ? "1" : "0";
      },
      { params: keyParams, response: { 200: t.String({ description: "1 if the key existed, else 0" }), ...errors }, detail: { tags: ["keys"], summary: "Delete a key" } },
    )
    .get(
      "/replicas/:key",
      async ({ params }) => ({
        key: params.key,
        replicas: (await node.inspect(params.key)).map(({ nodeUrl, record, error }) => ({
          nodeUrl,
          holds: record !== undefined,
          version: record?.version ?? null,
          tombstone: record?.tombstone ?? false,
          ...(error === undefined ? {} : { error }),
        })),
      }),
      { params: keyParams, response: { 200: replicasResponse, ...errors }, detail: { tags: ["keys"], summary: "The replicas of a key and the version each holds" } },
    )
    // An empty key in the path is a bad request (400), not an unknown route.
    .get("/get/", rejectEmptyKey, { detail: { hide: true } })
    .delete("/del/", rejectEmptyKey, { detail: { hide: true } })
    .get(
      "/keys",
      ({ query }) => {
        if (query.after === undefined) return node.keys(query.page ?? 1, query.pageSize ?? 20);
        if (query.page !== undefined) throw new NodeError("bad_request", "after and page cannot be combined: after is the cursor form");
        return node.keysAfter(query.after, query.pageSize ?? 20);
      },
      {
      query: keysQuery,
      response: { 200: keysResponse, 400: errorModel, 503: errorModel },
      detail: { tags: ["keys"], summary: "This node's keys, sorted, one page at a time (by page number, or after a cursor key)" },
      },
    );
}
