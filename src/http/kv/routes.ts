// GET/SET/DEL and the key listing, as the original's clients call them.
import { Elysia, t } from "elysia";
import { NodeError } from "../../node/errors.ts";
import type { LimeNode } from "../../node/node.ts";
import { cappedJson, TEXT_PLAIN } from "../body.ts";
import { errorModel, okText } from "../model.ts";
import { getResponse, keyParams, keysQuery, keysResponse, mgetBody, mgetResponse, msetBody, msetResponse, replicasResponse, scanQuery, scanResponse, setBody } from "./model.ts";
import { SCAN_LIMIT_DEFAULT, type ClusterScan } from "../../node/scan.ts";
import { BATCH_KEYS_MAX, batchBytesMax, mget, mset } from "../../node/batch.ts";
import { KEY_BYTES_MAX } from "../../store/limits.ts";

/** JSON may spell a character in six bytes (\u0000); each entry adds its field names and punctuation. */
const JSON_ESCAPE_FACTOR = 6;
const ENTRY_OVERHEAD_BYTES = 64;

/** The largest mget body: BATCH_KEYS_MAX keys at KEY_BYTES_MAX, every character escaped. */
export const MGET_BODY_BYTES_MAX = BATCH_KEYS_MAX * (JSON_ESCAPE_FACTOR * KEY_BYTES_MAX + ENTRY_OVERHEAD_BYTES) + 4096;

/** The largest mset body: the batch's byte budget of keys and values, every character escaped, and each entry's framing. */
export function msetBodyBytesMax(valueBytesMax: number): number {
  return JSON_ESCAPE_FACTOR * batchBytesMax(valueBytesMax) + BATCH_KEYS_MAX * ENTRY_OVERHEAD_BYTES + 4096;
}


const errors = { 400: errorModel, 404: errorModel, 413: errorModel, 503: errorModel, 504: errorModel };

function rejectEmptyKey(): never {
  throw new NodeError("bad_request", "key must not be empty");
}

/** Told of a batch key's failure that is this node's bug, with the request and route it came through (main logs it). */
export type BatchFailureReport = (error: unknown, request: Request, route: string) => void;

export function kvRoutes(node: LimeNode, scan: ClusterScan, bodyBytesMax: number, report: BatchFailureReport = () => undefined) {
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
    .post("/mget", async ({ body, request }) => ({ results: await mget(node, body.keys, (error) => report(error, request, "/api/v1/mget")) }), {
      parse: cappedJson(MGET_BODY_BYTES_MAX),
      body: mgetBody,
      response: { 200: mgetResponse, 400: errorModel, 413: errorModel, 503: errorModel },
      detail: { tags: ["keys"], summary: `Read up to ${BATCH_KEYS_MAX} keys; the answer says per key what was found or what failed` },
    })
    .post(
      "/mset",
      async ({ body, request }) => {
        const results = await mset(node, body.entries, (error) => report(error, request, "/api/v1/mset"));
        const written = results.filter((result) => result.ok).length;
        return { results, written, failed: results.length - written };
      },
      {
        parse: cappedJson(msetBodyBytesMax(node.valueBytesMax)),
        body: msetBody,
        response: { 200: msetResponse, 400: errorModel, 413: errorModel, 503: errorModel },
        detail: { tags: ["keys"], summary: `Write up to ${BATCH_KEYS_MAX} keys, each as a SET of its own; the answer says per key whether it was written` },
      },
    )
    .get(
      "/scan",
      async ({ query }) => {
        const page = await scan.page(query.cursor, query.limit ?? SCAN_LIMIT_DEFAULT, query.prefix ?? "");
        return { keys: page.entries, next: page.next };
      },
      {
        query: scanQuery,
        response: { 200: scanResponse, 400: errorModel, 503: errorModel, 504: errorModel },
        detail: { tags: ["keys"], summary: "Every live key of the cluster once, in ring order, a page at a time from an opaque cursor" },
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
