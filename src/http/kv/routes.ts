// GET/SET/DEL and the key listing, as the original's clients call them.
import { Elysia, t } from "elysia";
import { NodeError } from "../../node/errors.ts";
import type { LimeNode } from "../../node/node.ts";
import { readJsonBody } from "../body.ts";
import { errorModel, okText } from "../model.ts";
import { getResponse, keyParams, keysQuery, keysResponse, setBody } from "./model.ts";

/** Set explicitly: a bare string gets text/plain from Bun.serve but from no other adapter, app.handle included. */
const TEXT = "text/plain; charset=utf-8";

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
        set.headers["content-type"] = TEXT;
        return "OK";
      },
      {
        // The capped reader always returns a body or throws, so "json" never runs: it is listed only
        // because the OpenAPI generator documents no request body at all for a parser it cannot name.
        parse: [({ request }) => readJsonBody(request, bodyBytesMax), "json"],
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
        set.headers["content-type"] = TEXT;
        return existed ? "1" : "0";
      },
      { params: keyParams, response: { 200: t.String({ description: "1 if the key existed, else 0" }), ...errors }, detail: { tags: ["keys"], summary: "Delete a key" } },
    )
    // An empty key in the path is a bad request (400), not an unknown route.
    .get("/get/", rejectEmptyKey, { detail: { hide: true } })
    .delete("/del/", rejectEmptyKey, { detail: { hide: true } })
    .get("/keys", ({ query }) => node.keys(query.page ?? 1, query.pageSize ?? 20), {
      query: keysQuery,
      response: { 200: keysResponse, 400: errorModel, 503: errorModel },
      detail: { tags: ["keys"], summary: "This node's keys, sorted, one page at a time" },
    });
}
