// Every kind of bad request gets the SPEC's status and a JSON {error, code}, stores nothing, and leaves the app serving.
import { expect, test } from "bun:test";
import { BASE, buildTestApp, START_MS, VALUE_BYTES_MAX } from "../support/app.ts";
import type { Backend } from "../../src/store/backend.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import { streamOfSpaces } from "../support/huge-body.ts";
import { JSON_DEPTH_MAX } from "../../src/http/body.ts";

const SET_URL = `${BASE}/api/v1/set`;
/** Far over the body limit (about 6 MiB for a 1 MiB value limit), so it is refused by size, not parsed. */
const HUGE_BODY_BYTES = 16 * 1024 * 1024;
const HUGE_CHUNK_BYTES = 64 * 1024;

function postSet(body: string): Request {
  return new Request(SET_URL, { method: "POST", headers: { "content-type": "application/json" }, body });
}

/** A body that declares its length, as curl and fetch do for a buffer. */
function hugeWithLength(): Request {
  const body = new Uint8Array(HUGE_BODY_BYTES).fill(0x20);
  return new Request(SET_URL, { method: "POST", headers: { "content-type": "application/json", "content-length": String(body.byteLength) }, body });
}

/** A body sent as a stream with no Content-Length, so only counting while reading can stop it. */
function hugeStreamed(): { request: Request; pulledBytes: () => number } {
  const { body, pulledBytes } = streamOfSpaces(HUGE_BODY_BYTES, HUGE_CHUNK_BYTES);
  const request = new Request(SET_URL, { method: "POST", headers: { "content-type": "application/json" }, body });
  return { request, pulledBytes };
}

interface BadCase {
  readonly name: string;
  readonly request: () => Request;
  readonly status: number;
  readonly code: string;
  /** A key the request names, which must not exist afterwards. */
  readonly key?: string;
  readonly allow?: string;
}

const LONG_ASCII_KEY = "k".repeat(1025);
/** 513 characters but 1,026 UTF-8 bytes: the limit counts bytes, not characters. */
const LONG_UTF8_KEY = "é".repeat(513);

const CASES: BadCase[] = [
  { name: "malformed JSON", request: () => postSet('{"key": "broken", "value": '), status: 400, code: "bad_request", key: "broken" },
  { name: "an empty body", request: () => postSet(""), status: 400, code: "bad_request" },
  { name: "a body of only spaces", request: () => postSet("   "), status: 400, code: "bad_request" },
  { name: "a JSON array body", request: () => postSet('[{"key":"in-array","value":"v"}]'), status: 400, code: "bad_request", key: "in-array" },
  { name: "a JSON string body", request: () => postSet('"just a string"'), status: 400, code: "bad_request" },
  { name: "a JSON null body", request: () => postSet("null"), status: 400, code: "bad_request" },
  { name: "a missing key", request: () => postSet('{"value":"v"}'), status: 400, code: "bad_request" },
  // URL parsers drop "." and ".." path segments, so such keys could be set but never read back.
  { name: 'the key "."', request: () => postSet('{"key":".","value":"v"}'), status: 400, code: "bad_request", key: "." },
  { name: 'the key ".."', request: () => postSet('{"key":"..","value":"v"}'), status: 400, code: "bad_request", key: ".." },
  { name: "a missing value", request: () => postSet('{"key":"no-value"}'), status: 400, code: "bad_request", key: "no-value" },
  { name: "an empty key", request: () => postSet('{"key":"","value":"v"}'), status: 400, code: "bad_request", key: "" },
  { name: "a number as value", request: () => postSet('{"key":"numeric-value","value":42}'), status: 400, code: "bad_request", key: "numeric-value" },
  { name: "null as value", request: () => postSet('{"key":"null-value","value":null}'), status: 400, code: "bad_request", key: "null-value" },
  { name: "an object as value", request: () => postSet('{"key":"object-value","value":{"a":1}}'), status: 400, code: "bad_request", key: "object-value" },
  { name: "a number as key", request: () => postSet('{"key":42,"value":"v"}'), status: 400, code: "bad_request", key: "42" },
  { name: "an array as key", request: () => postSet('{"key":["a"],"value":"v"}'), status: 400, code: "bad_request", key: "a" },
  // A lone surrogate has no UTF-8 form; SQLite would store U+FFFD and merge the key with another one.
  { name: "a key holding a lone surrogate", request: () => postSet('{"key":"lone-\\ud800","value":"v"}'), status: 400, code: "bad_request", key: "lone-\ud800" },
  { name: "a value holding a lone surrogate", request: () => postSet('{"key":"lone-value","value":"a\\udc00b"}'), status: 400, code: "bad_request", key: "lone-value" },
  { name: "a key of 1,025 ASCII bytes", request: () => postSet(JSON.stringify({ key: LONG_ASCII_KEY, value: "v" })), status: 413, code: "too_large", key: LONG_ASCII_KEY },
  { name: "a key of 513 characters and 1,026 UTF-8 bytes", request: () => postSet(JSON.stringify({ key: LONG_UTF8_KEY, value: "v" })), status: 413, code: "too_large", key: LONG_UTF8_KEY },
  {
    name: "a value one byte over the limit",
    request: () => postSet(JSON.stringify({ key: "big-value", value: "v".repeat(VALUE_BYTES_MAX + 1) })),
    status: 413,
    code: "too_large",
    key: "big-value",
  },
  {
    name: "a value over the limit in UTF-8 bytes but not in characters",
    request: () => postSet(JSON.stringify({ key: "big-utf8-value", value: "é".repeat(VALUE_BYTES_MAX / 2 + 1) })),
    status: 413,
    code: "too_large",
    key: "big-utf8-value",
  },
  { name: "a body of many megabytes with a Content-Length", request: hugeWithLength, status: 413, code: "too_large" },
  { name: "a body of many megabytes streamed without a Content-Length", request: () => hugeStreamed().request, status: 413, code: "too_large" },
  { name: "ttlMs 0", request: () => postSet('{"key":"ttl-zero","value":"v","ttlMs":0}'), status: 400, code: "bad_request", key: "ttl-zero" },
  { name: "ttlMs -5", request: () => postSet('{"key":"ttl-negative","value":"v","ttlMs":-5}'), status: 400, code: "bad_request", key: "ttl-negative" },
  { name: "ttlMs 1.5", request: () => postSet('{"key":"ttl-fraction","value":"v","ttlMs":1.5}'), status: 400, code: "bad_request", key: "ttl-fraction" },
  { name: 'ttlMs "x"', request: () => postSet('{"key":"ttl-text","value":"v","ttlMs":"x"}'), status: 400, code: "bad_request", key: "ttl-text" },
  { name: 'ttlMs "100", a number in a string', request: () => postSet('{"key":"ttl-digits","value":"v","ttlMs":"100"}'), status: 400, code: "bad_request", key: "ttl-digits" },
  { name: "ttlMs over ten years", request: () => postSet('{"key":"ttl-huge","value":"v","ttlMs":1e15}'), status: 400, code: "bad_request", key: "ttl-huge" },
  { name: "a GET of a key over 1,024 bytes", request: () => new Request(`${BASE}/api/v1/get/${"k".repeat(1025)}`), status: 413, code: "too_large" },
  { name: "a DEL of a key over 1,024 bytes", request: () => new Request(`${BASE}/api/v1/del/${"k".repeat(1025)}`, { method: "DELETE" }), status: 413, code: "too_large" },
  { name: "a GET with an invalid percent escape", request: () => new Request(`${BASE}/api/v1/get/%zz`), status: 400, code: "bad_request" },
  // A lenient decoder reads %C3 (half a UTF-8 sequence) as U+FFFD: another key than the client named.
  { name: "a GET of half a UTF-8 sequence", request: () => new Request(`${BASE}/api/v1/get/%C3`), status: 400, code: "bad_request" },
  { name: "a DEL of half a UTF-8 sequence", request: () => new Request(`${BASE}/api/v1/del/%C3`, { method: "DELETE" }), status: 400, code: "bad_request" },
  { name: "a DEL with an invalid percent escape", request: () => new Request(`${BASE}/api/v1/del/a%zz`, { method: "DELETE" }), status: 400, code: "bad_request" },
  { name: "a body nested 100,000 arrays deep", request: () => postSet(`{"key":"deep","value":"v","extra":${"[".repeat(100_000)}${"]".repeat(100_000)}}`), status: 400, code: "bad_request", key: "deep" },
  { name: "a body nested one level past the depth limit", request: () => postSet(`{"key":"deep","value":"v","extra":${"[".repeat(JSON_DEPTH_MAX)}${"]".repeat(JSON_DEPTH_MAX)}}`), status: 400, code: "bad_request", key: "deep" },
  { name: "page=abc", request: () => new Request(`${BASE}/api/v1/keys?page=abc`), status: 400, code: "bad_request" },
  { name: "page=0", request: () => new Request(`${BASE}/api/v1/keys?page=0`), status: 400, code: "bad_request" },
  { name: "page=-1", request: () => new Request(`${BASE}/api/v1/keys?page=-1`), status: 400, code: "bad_request" },
  { name: "page=1.5", request: () => new Request(`${BASE}/api/v1/keys?page=1.5`), status: 400, code: "bad_request" },
  { name: "page=99999999999999999999", request: () => new Request(`${BASE}/api/v1/keys?page=99999999999999999999`), status: 400, code: "bad_request" },
  { name: "pageSize=101", request: () => new Request(`${BASE}/api/v1/keys?pageSize=101`), status: 400, code: "bad_request" },
  { name: "pageSize=0", request: () => new Request(`${BASE}/api/v1/keys?pageSize=0`), status: 400, code: "bad_request" },
  { name: "an unknown path", request: () => new Request(`${BASE}/api/v1/nothing-here`), status: 404, code: "route_not_found" },
  { name: "an unknown path outside the API", request: () => new Request(`${BASE}/wp-admin/index.php`), status: 404, code: "route_not_found" },
  { name: "GET on the SET path", request: () => new Request(SET_URL), status: 405, code: "method_not_allowed", allow: "POST" },
  {
    name: "PUT on the GET path",
    request: () => new Request(`${BASE}/api/v1/get/k`, { method: "PUT", body: "{}" }),
    status: 405,
    code: "method_not_allowed",
    allow: "GET",
  },
  { name: "POST on /keys", request: () => new Request(`${BASE}/api/v1/keys`, { method: "POST", body: "{}" }), status: 405, code: "method_not_allowed", allow: "GET" },
  { name: "GET on the DEL path", request: () => new Request(`${BASE}/api/v1/del/k`), status: 405, code: "method_not_allowed", allow: "DELETE" },
  { name: "DELETE on /health", request: () => new Request(`${BASE}/api/v1/health`, { method: "DELETE" }), status: 405, code: "method_not_allowed", allow: "GET" },
];

test.each(CASES)("$name gets $status with code $code, stores nothing and the app keeps serving", async (badCase) => {
  const { app, client, store, internalErrors } = buildTestApp();
  await client.set("existing", "before");

  const response = await app.handle(badCase.request());

  expect(response.status).toBe(badCase.status);
  expect(response.headers.get("content-type")).toStartWith("application/json");
  const text = await response.text();
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(["code", "error"]);
  expect(body.code).toBe(badCase.code);
  expect(body.code).toMatch(/^[a-z]+(_[a-z]+)*$/);
  expect(typeof body.error).toBe("string");
  expect((body.error as string).length).toBeGreaterThan(0);
  // No stack trace, no source paths: the client learns what was wrong, not how the node is built.
  expect(text).not.toMatch(/\bat .+:\d+|node_modules|\.ts\b|\\n\s+at /);
  if (badCase.allow !== undefined) expect(response.headers.get("allow")).toBe(badCase.allow);
  // A client mistake is not a node failure.
  expect(internalErrors).toEqual([]);

  expect(await store.count()).toBe(1);
  if (badCase.key !== undefined) expect(await store.get(badCase.key)).toBeUndefined();

  expect(await (await client.set("after", "still serving")).text()).toBe("OK");
  expect(((await (await client.get("after")).json()) as { value: string }).value).toBe("still serving");
  expect(((await (await client.get("existing")).json()) as { value: string }).value).toBe("before");
});

test("a streamed oversized body is refused before it is read whole", async () => {
  const { app } = buildTestApp();
  const { request, pulledBytes } = hugeStreamed();
  const response = await app.handle(request);
  expect(response.status).toBe(413);
  // The limit is about 6 MiB; the stream offers 16 MiB and must be cut off near the limit.
  expect(pulledBytes()).toBeLessThan(HUGE_BODY_BYTES / 2);
});

test("a /keys answer that breaks its schema is logged by route field and complaint, never with a key or value", async () => {
  // A store handing back bytes for a value (a BLOB in a damaged SQLite file) makes the answer break its schema.
  const inner = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: () => START_MS });
  const store: Backend = Object.assign(Object.create(inner) as MemoryBackend, {
    page: async () => ({ entries: [{ key: "secret-key-5kd2", value: new TextEncoder().encode("secret-value-5kd2") as unknown as string }, { key: "other-key-5kd2", value: "secret-value-5kd2" }], total: 2 }),
  });
  const { client, internalErrors } = buildTestApp({ store });
  const response = await client.keys();
  expect(response.status).toBe(500);
  expect(await response.json()).toStrictEqual({ error: expect.any(String), code: "internal" });
  expect(internalErrors).toHaveLength(1);
  const logged = internalErrors[0] as Error;
  expect(logged.message).toContain("keys.0.value");
  for (const secret of ["secret-key-5kd2", "other-key-5kd2", "secret-value-5kd2"]) expect(`${logged.message} ${String(logged.stack)}`).not.toContain(secret);
});
