// The replica and admin endpoints in-process: input validation, the cluster secret, last write wins, and their Swagger entries.
import { describe, expect, test } from "bun:test";
import { bucketDigests, bucketOf, BUCKETS } from "../../src/node/anti-entropy.ts";
import { SECRET_HEADER } from "../../src/node/peer-client.ts";
import { RECORDS_PER_REQUEST_MAX, toWire, type WireRecord } from "../../src/node/record-wire.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { BASE, buildTestApp, NODE_URL, START_MS } from "../support/app.ts";

const PEER = "http://127.0.0.1:7002";
const SECRET = "s3cret";

/** Two nodes and two copies a key: this node shares every key with PEER, so digests and bucket pages cover all. */
function build(options: { secret?: string; leave?: () => void } = {}) {
  return buildTestApp({ ringNodes: [NODE_URL, PEER], replicationFactor: 2, ...options });
}

function record(key: string, value: string, wallMs = START_MS, extra: Partial<StoredRecord> = {}): StoredRecord {
  return { key, value, version: { wallMs, counter: 0, node: PEER }, tombstone: false, expiresAtMs: undefined, ...extra };
}

type App = ReturnType<typeof build>;

function post(app: App, path: string, body: unknown, secret?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (secret !== undefined) headers[SECRET_HEADER] = secret;
  return app.client.handle(new Request(`${BASE}${path}`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) }));
}

function get(app: App, path: string, secret?: string): Promise<Response> {
  return app.client.handle(new Request(`${BASE}${path}`, { headers: secret === undefined ? {} : { [SECRET_HEADER]: secret } }));
}

const putRecords = (app: App, records: readonly unknown[], secret?: string) => post(app, "/api/v1/replica/put", { records }, secret);

async function errorOf(response: Response): Promise<{ status: number; code: unknown }> {
  const body = (await response.json()) as { code?: unknown };
  return { status: response.status, code: body.code };
}

const GOOD = toWire(record("k", "v"));
const withVersion = (version: Record<string, unknown>) => ({ ...GOOD, version: { ...GOOD.version, ...version } });

describe("POST /api/v1/replica/put", () => {
  test("applies records by last write wins and answers an outcome for each", async () => {
    const app = build();
    const v2 = record("k", "v2", START_MS + 2);
    let response = await putRecords(app, [toWire(v2), toWire(record("other", "o"))]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ outcomes: [{ applied: true, replacedLive: false }, { applied: true, replacedLive: false }] });
    response = await putRecords(app, [toWire(record("k", "v1", START_MS + 1)), toWire(v2)]);
    expect(await response.json()).toEqual({ outcomes: [{ applied: false, replacedLive: false }, { applied: false, replacedLive: false }] });
    const tombstone = record("k", "", START_MS + 3, { tombstone: true });
    response = await putRecords(app, [toWire(tombstone)]);
    expect(await response.json()).toEqual({ outcomes: [{ applied: true, replacedLive: true }] });
    expect(await app.store.get("k")).toEqual(tombstone);
  });

  test("keeps an expiry and makes this node's clock pass the versions it took", async () => {
    const app = build();
    const expiring = record("k", "v", START_MS + 60_000, { expiresAtMs: START_MS + 120_000 });
    expect((await putRecords(app, [toWire(expiring)])).status).toBe(200);
    expect(await app.store.get("k")).toEqual(expiring);
    expect(app.node.clock.tick().wallMs).toBe(START_MS + 60_000);
  });

  test.each<[string, unknown]>([
    ["the body is not JSON", "{records:"],
    ["records is missing", {}],
    ["records is not a list", { records: "k=v" }],
    ["a record is not an object", { records: ["k=v"] }],
    ["a key is empty", { records: [{ ...GOOD, key: "" }] }],
    ["a key is over 1,024 characters", { records: [{ ...GOOD, key: "k".repeat(1025) }] }],
    ["a value is a number", { records: [{ ...GOOD, value: 42 }] }],
    ["the version is missing", { records: [{ key: "k", value: "v", tombstone: false, expiresAtMs: null }] }],
    ["the version's wall time is negative", { records: [withVersion({ wallMs: -1 })] }],
    ["the version's wall time is a fraction", { records: [withVersion({ wallMs: 1.5 })] }],
    ["the version's wall time is a string", { records: [withVersion({ wallMs: String(START_MS) })] }],
    ["the version's counter is past the safe integers", { records: [withVersion({ counter: 2 ** 53 })] }],
    ["the version's node is empty", { records: [withVersion({ node: "" })] }],
    ["the tombstone flag is a string", { records: [{ ...GOOD, tombstone: "false" }] }],
    ["the expiry is missing", { records: [{ key: "k", value: "v", version: GOOD.version, tombstone: false }] }],
    ["the expiry is negative", { records: [{ ...GOOD, expiresAtMs: -1 }] }],
    ["a key is \".\", which no URL path can address", { records: [{ ...GOOD, key: "." }] }],
    ["a key holds a lone surrogate", { records: [{ ...GOOD, key: "lone-\ud800" }] }],
    ["a good record comes with a bad one: nothing of the batch is applied", { records: [GOOD, { ...GOOD, key: ".." }] }],
    ["there are more records than one request may carry", { records: Array.from({ length: RECORDS_PER_REQUEST_MAX + 1 }, (_, i) => ({ ...GOOD, key: `k${i}` })) }],
  ])("answers 400 and stores nothing when %s", async (_name, body) => {
    const app = build();
    expect(await errorOf(await post(app, "/api/v1/replica/put", body))).toEqual({ status: 400, code: "bad_request" });
    expect(await app.store.scan(undefined, 10)).toEqual([]);
  });

  test("takes exactly as many records as one request may carry", async () => {
    const app = build();
    const records: WireRecord[] = Array.from({ length: RECORDS_PER_REQUEST_MAX }, (_, i) => ({ ...GOOD, key: `k${i}` }));
    const response = await putRecords(app, records);
    expect(response.status).toBe(200);
    expect(await app.store.scan(undefined, 10_000)).toHaveLength(RECORDS_PER_REQUEST_MAX);
  });

  test("answers 413 for a key within 1,024 characters but over 1,024 UTF-8 bytes, checked where it is stored", async () => {
    const app = build();
    expect(await errorOf(await putRecords(app, [{ ...GOOD, key: "é".repeat(600) }]))).toEqual({ status: 413, code: "too_large" });
    expect(await app.store.scan(undefined, 10)).toEqual([]);
  });
});

describe("GET /api/v1/replica/get/:key", () => {
  test("answers null for a key this replica does not hold", async () => {
    const response = await get(build(), "/api/v1/replica/get/missing");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ record: null });
  });

  test.each<[string, StoredRecord]>([
    ["a live record", record("a key/with ünïcode", "v", START_MS + 1)],
    ["a tombstone", record("a key/with ünïcode", "", START_MS + 1, { tombstone: true })],
    ["a record with an expiry", record("a key/with ünïcode", "v", START_MS + 1, { expiresAtMs: START_MS + 60_000 })],
  ])("answers %s as stored, version and all", async (_name, stored) => {
    const app = build();
    await app.store.put(stored);
    const response = await get(app, `/api/v1/replica/get/${encodeURIComponent(stored.key)}`);
    expect(await response.json()).toEqual({ record: toWire(stored) });
  });

  test("answers null once a record has expired", async () => {
    const app = build();
    await app.store.put(record("k", "v", START_MS, { expiresAtMs: START_MS + 1000 }));
    app.clock.advance(1000);
    expect(await (await get(app, "/api/v1/replica/get/k")).json()).toEqual({ record: null });
  });
});

describe("POST /api/v1/replica/digests", () => {
  async function seeded() {
    const app = build();
    for (let i = 0; i < 50; i++) await app.store.put(record(`key-${i}`, "v", START_MS + i));
    return app;
  }

  test("answers no bucket when the digests are equal, and exactly the differing bucket otherwise", async () => {
    const app = await seeded();
    const digests = await bucketDigests(app.store, () => true);
    expect(await (await post(app, "/api/v1/replica/digests", { from: PEER, digests })).json()).toEqual({ buckets: [] });
    const changed = [...digests];
    const bucket = bucketOf("key-7");
    changed[bucket] = (changed[bucket]! + 1) >>> 0;
    expect(await (await post(app, "/api/v1/replica/digests", { from: PEER, digests: changed })).json()).toEqual({ buckets: [bucket] });
  });

  test("answers every bucket for a digest list of the wrong length", async () => {
    const app = await seeded();
    const response = await post(app, "/api/v1/replica/digests", { from: PEER, digests: [1, 2, 3] });
    expect(await response.json()).toEqual({ buckets: Array.from({ length: BUCKETS }, (_, b) => b) });
  });

  test.each<[string, unknown]>([
    ["from is missing", { digests: [] }],
    ["from is not a URL", { from: "not a url", digests: [] }],
    ["from has a path", { from: `${PEER}/api`, digests: [] }],
    ["digests is missing", { from: PEER }],
    ["a digest is negative", { from: PEER, digests: [-1] }],
    ["a digest is over 32 bits", { from: PEER, digests: [2 ** 32] }],
    ["a digest is a fraction", { from: PEER, digests: [1.5] }],
    ["a digest is a string", { from: PEER, digests: ["1"] }],
    ["there are more digests than buckets", { from: PEER, digests: new Array<number>(BUCKETS + 1).fill(0) }],
  ])("answers 400 when %s", async (_name, body) => {
    expect(await errorOf(await post(build(), "/api/v1/replica/digests", body))).toEqual({ status: 400, code: "bad_request" });
  });
});

describe("POST /api/v1/replica/bucket-records", () => {
  test("answers this replica's records of the given buckets, tombstones included, in key order", async () => {
    const app = build();
    const stored = Array.from({ length: 40 }, (_, i) => record(`key-${String(i).padStart(2, "0")}`, "v", START_MS + i, { tombstone: i % 4 === 0, value: i % 4 === 0 ? "" : "v" }));
    for (const r of stored) await app.store.put(r);
    const buckets = [bucketOf("key-00"), bucketOf("key-13")];
    const response = await post(app, "/api/v1/replica/bucket-records", { from: PEER, buckets, after: null });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ records: stored.filter((r) => buckets.includes(bucketOf(r.key))).map(toWire), next: null });
    const after = await post(app, "/api/v1/replica/bucket-records", { from: PEER, buckets, after: "key-00" });
    expect(((await after.json()) as { records: WireRecord[] }).records.map((r) => r.key)).not.toContain("key-00");
  });

  test.each<[string, unknown]>([
    ["a bucket is past the last", { from: PEER, buckets: [BUCKETS], after: null }],
    ["a bucket is negative", { from: PEER, buckets: [-1], after: null }],
    ["a bucket is a fraction", { from: PEER, buckets: [1.5], after: null }],
    ["a bucket is a string", { from: PEER, buckets: ["3"], after: null }],
    ["there are more buckets than exist", { from: PEER, buckets: new Array<number>(BUCKETS + 1).fill(0), after: null }],
    ["buckets is missing", { from: PEER, after: null }],
    ["after is missing", { from: PEER, buckets: [0] }],
    ["after is a number", { from: PEER, buckets: [0], after: 3 }],
    ["from is not a URL", { from: "peer", buckets: [0], after: null }],
  ])("answers 400 when %s", async (_name, body) => {
    expect(await errorOf(await post(build(), "/api/v1/replica/bucket-records", body))).toEqual({ status: 400, code: "bad_request" });
  });
});

describe("with a cluster secret", () => {
  const requests: [string, (app: App, secret?: string) => Promise<Response>][] = [
    ["POST /api/v1/replica/put", (app, secret) => putRecords(app, [GOOD], secret)],
    ["GET /api/v1/replica/get/:key", (app, secret) => get(app, "/api/v1/replica/get/k", secret)],
    ["POST /api/v1/replica/digests", (app, secret) => post(app, "/api/v1/replica/digests", { from: PEER, digests: [] }, secret)],
    ["POST /api/v1/replica/bucket-records", (app, secret) => post(app, "/api/v1/replica/bucket-records", { from: PEER, buckets: [0], after: null }, secret)],
    ["POST /api/v1/admin/leave", (app, secret) => post(app, "/api/v1/admin/leave", "", secret)],
  ];

  test.each(requests)("%s without the secret, or with a wrong one, is 401 and changes nothing", async (_name, send) => {
    let leaves = 0;
    const app = build({ secret: SECRET, leave: () => void leaves++ });
    for (const secret of [undefined, "wrong", ""]) {
      expect(await errorOf(await send(app, secret))).toEqual({ status: 401, code: "unauthorized" });
    }
    expect(await app.store.scan(undefined, 10)).toEqual([]);
    expect(leaves).toBe(0);
  });

  test.each(requests)("%s with the secret is served", async (_name, send) => {
    const app = build({ secret: SECRET });
    expect([200, 202]).toContain((await send(app, SECRET)).status);
  });

  test("a bad body without the secret is 401, not 400: validation tells an outsider nothing", async () => {
    const app = build({ secret: SECRET });
    expect(await errorOf(await post(app, "/api/v1/replica/put", { records: "junk" }))).toEqual({ status: 401, code: "unauthorized" });
  });
});

describe("POST /api/v1/admin/leave", () => {
  test("starts the leave and answers 202 with this node's URL", async () => {
    let leaves = 0;
    const app = build({ leave: () => void leaves++ });
    const response = await post(app, "/api/v1/admin/leave", "");
    expect(response.status).toBe(202);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect(await response.json()).toEqual({ status: "leaving", nodeUrl: NODE_URL });
    expect(leaves).toBe(1);
  });

  test("is POST only", async () => {
    let leaves = 0;
    const app = build({ leave: () => void leaves++ });
    expect((await get(app, "/api/v1/admin/leave")).status).toBe(405);
    expect(leaves).toBe(0);
  });
});

describe("the OpenAPI document", () => {
  test.each([
    ["post", "/api/v1/replica/put", "internal"],
    ["get", "/api/v1/replica/get/{key}", "internal"],
    ["post", "/api/v1/replica/digests", "internal"],
    ["post", "/api/v1/replica/bucket-records", "internal"],
    ["post", "/api/v1/admin/leave", "admin"],
    ["get", "/api/v1/replicas/{key}", "keys"],
  ])("lists %s %s under the %s tag", async (method, path, tag) => {
    const response = await get(build(), "/swagger/json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    expect(document.paths[path]?.[method]?.tags).toEqual([tag]);
  });
});
