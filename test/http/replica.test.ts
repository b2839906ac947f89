// The replica and admin endpoints in-process: input validation, the cluster secret, last write wins, and their Swagger entries.
import { describe, expect, test } from "bun:test";
import { groupDigests, groupSegments, GROUPS, GROUPS_PER_REQUEST_MAX, SEGMENTS_PER_GROUP, SEGMENTS_PER_ROUND_MAX, sharedDigests } from "../../src/node/anti-entropy.ts";
import { RING_MAX, WHOLE_RING, type RingRange } from "../../src/ring/range.ts";
import { ringPosition, SEGMENT_COUNT, segmentOf } from "../../src/store/segments.ts";
import { RANGES_PER_REQUEST_MAX, rangesToWire } from "../../src/node/range-wire.ts";
import { SECRET_HEADER } from "../../src/node/peer-client.ts";
import { RECORDS_PER_REQUEST_MAX, toWire, type WireRecord } from "../../src/node/record-wire.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { BASE, buildTestApp, NODE_URL, START_MS } from "../support/app.ts";
import { REMOVE_BODY_BYTES_MAX } from "../../src/http/admin/routes.ts";

const PEER = "http://127.0.0.1:7002";
/** The whole ring, as a request names it. */
const ALL = rangesToWire([WHOLE_RING]);
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

  test("answers an expired record as stored, as it answers a tombstone: the delete its expiry made, which the coordinator reads as absent", async () => {
    const app = build();
    const expiring = record("k", "v", START_MS, { expiresAtMs: START_MS + 1000 });
    await app.store.put(expiring);
    app.clock.advance(1000);
    expect(await (await get(app, "/api/v1/replica/get/k")).json()).toEqual({ record: toWire(expiring) });
  });
});

describe("POST /api/v1/replica/digests", () => {
  async function seeded() {
    const app = build();
    for (let i = 0; i < 50; i++) await app.store.put(record(`key-${i}`, "v", START_MS + i));
    return app;
  }

  test("answers no group when the digests are equal, and exactly the differing group otherwise", async () => {
    const app = await seeded();
    const groups = groupDigests(await sharedDigests(app.store, [WHOLE_RING]));
    expect(await (await post(app, "/api/v1/replica/digests", { from: PEER, ranges: ALL, groups })).json()).toEqual({ groups: [] });
    const changed = [...groups];
    const group = Math.floor(segmentOf("key-7") / SEGMENTS_PER_GROUP);
    changed[group] = (changed[group]! + 1) >>> 0;
    expect(await (await post(app, "/api/v1/replica/digests", { from: PEER, ranges: ALL, groups: changed })).json()).toEqual({ groups: [group] });
  });

  test.each<[string, unknown]>([
    ["from is missing", { ranges: ALL, groups: new Array<number>(GROUPS).fill(0) }],
    ["from is not a URL", { from: "not a url", ranges: ALL, groups: new Array<number>(GROUPS).fill(0) }],
    ["from has a path", { from: `${PEER}/api`, ranges: ALL, groups: new Array<number>(GROUPS).fill(0) }],
    ["groups is missing", { from: PEER, ranges: ALL }],
    ["a digest is negative", { from: PEER, ranges: ALL, groups: [-1, ...new Array<number>(GROUPS - 1).fill(0)] }],
    ["a digest is over 32 bits", { from: PEER, ranges: ALL, groups: [2 ** 32, ...new Array<number>(GROUPS - 1).fill(0)] }],
    ["a digest is a fraction", { from: PEER, ranges: ALL, groups: [1.5, ...new Array<number>(GROUPS - 1).fill(0)] }],
    ["a digest is a string", { from: PEER, ranges: ALL, groups: ["1", ...new Array<number>(GROUPS - 1).fill(0)] }],
    ["there are fewer digests than groups", { from: PEER, ranges: ALL, groups: [1, 2, 3] }],
    ["there are more digests than groups", { from: PEER, ranges: ALL, groups: new Array<number>(GROUPS + 1).fill(0) }],
    ["ranges is missing", { from: PEER, groups: new Array<number>(GROUPS).fill(0) }],
    ["a position is a number", { from: PEER, ranges: [[0, 5]], groups: new Array<number>(GROUPS).fill(0) }],
    ["a position is past 2^64 - 1", { from: PEER, ranges: [["0", "18446744073709551616"]], groups: new Array<number>(GROUPS).fill(0) }],
    ["a position has a sign or leading zero", { from: PEER, ranges: [["-1", "5"]], groups: new Array<number>(GROUPS).fill(0) }],
    ["a range ends before it starts", { from: PEER, ranges: [["9", "5"]], groups: new Array<number>(GROUPS).fill(0) }],
    ["ranges overlap", { from: PEER, ranges: [["0", "9"], ["9", "20"]], groups: new Array<number>(GROUPS).fill(0) }],
    ["there are more ranges than a request may name", { from: PEER, ranges: Array.from({ length: RANGES_PER_REQUEST_MAX + 1 }, (_, i) => [String(2 * i), String(2 * i)]), groups: new Array<number>(GROUPS).fill(0) }],
  ])("answers 400 when %s", async (_name, body) => {
    expect(await errorOf(await post(build(), "/api/v1/replica/digests", body))).toEqual({ status: 400, code: "bad_request" });
  });
});

describe("POST /api/v1/replica/segment-digests", () => {
  test("answers exactly the segments whose digests differ within the given groups", async () => {
    const app = build();
    for (let i = 0; i < 50; i++) await app.store.put(record(`key-${i}`, "v", START_MS + i));
    const segments = await sharedDigests(app.store, [WHOLE_RING]);
    const segment = segmentOf("key-7");
    const group = Math.floor(segment / SEGMENTS_PER_GROUP);
    const groups = [group, (group + 1) % GROUPS];
    const digests = groupSegments(segments, groups);
    expect(await (await post(app, "/api/v1/replica/segment-digests", { from: PEER, ranges: ALL, groups, digests })).json()).toEqual({ segments: [] });
    digests[segment % SEGMENTS_PER_GROUP] = (digests[segment % SEGMENTS_PER_GROUP]! + 1) >>> 0;
    expect(await (await post(app, "/api/v1/replica/segment-digests", { from: PEER, ranges: ALL, groups, digests })).json()).toEqual({ segments: [segment] });
  });

  test.each<[string, unknown]>([
    ["digests do not match the groups", { from: PEER, ranges: ALL, groups: [0], digests: [1, 2] }],
    ["a group is past the last", { from: PEER, ranges: ALL, groups: [GROUPS], digests: new Array<number>(SEGMENTS_PER_GROUP).fill(0) }],
    ["there are too many groups", { from: PEER, ranges: ALL, groups: Array.from({ length: GROUPS_PER_REQUEST_MAX + 1 }, (_, g) => g), digests: [] }],
    ["digests is missing", { from: PEER, ranges: ALL, groups: [0] }],
  ])("answers 400 when %s", async (_name, body) => {
    expect(await errorOf(await post(build(), "/api/v1/replica/segment-digests", body))).toEqual({ status: 400, code: "bad_request" });
  });
});

describe("POST /api/v1/replica/segment-records", () => {
  test("answers this replica's records of the given segments, tombstones included, in ring order", async () => {
    const app = build();
    const stored = Array.from({ length: 40 }, (_, i) => record(`key-${String(i).padStart(2, "0")}`, "v", START_MS + i, { tombstone: i % 4 === 0, value: i % 4 === 0 ? "" : "v" }));
    for (const r of stored) await app.store.put(r);
    const segments = [segmentOf("key-00"), segmentOf("key-13")];
    const response = await post(app, "/api/v1/replica/segment-records", { from: PEER, ranges: ALL, segments, after: null });
    expect(response.status).toBe(200);
    const expected = (await app.store.scanRing(WHOLE_RING, undefined, 100)).filter((r) => segments.includes(segmentOf(r.key)));
    expect(await response.json()).toEqual({ records: expected.map(toWire), next: null });
    const after = await post(app, "/api/v1/replica/segment-records", { from: PEER, ranges: ALL, segments, after: expected[0]!.key });
    expect(((await after.json()) as { records: WireRecord[] }).records.map((r) => r.key)).toEqual(expected.slice(1).map((r) => r.key));
  });

  test("answers only records of the ranges the request names, not of this replica's own view", async () => {
    const app = build();
    const stored = Array.from({ length: 40 }, (_, i) => record(`key-${i}`, "v", START_MS + i));
    for (const r of stored) await app.store.put(r);
    const inRing = await app.store.scanRing(WHOLE_RING, undefined, 100);
    const segments = [...new Set(inRing.map((r) => segmentOf(r.key)))];
    // The first half of the ring only.
    const half: RingRange = { lo: 0n, hi: RING_MAX / 2n };
    const response = await post(app, "/api/v1/replica/segment-records", { from: PEER, ranges: rangesToWire([half]), segments, after: null });
    const keys = ((await response.json()) as { records: WireRecord[] }).records.map((r) => r.key);
    expect(keys).toEqual(inRing.filter((r) => ringPosition(r.key) <= half.hi).map((r) => r.key));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThan(stored.length);
  });

  test.each<[string, unknown]>([
    ["a segment is past the last", { from: PEER, ranges: ALL, segments: [SEGMENT_COUNT], after: null }],
    ["a segment is negative", { from: PEER, ranges: ALL, segments: [-1], after: null }],
    ["a segment is a fraction", { from: PEER, ranges: ALL, segments: [1.5], after: null }],
    ["a segment is a string", { from: PEER, ranges: ALL, segments: ["3"], after: null }],
    ["there are more segments than a round repairs", { from: PEER, ranges: ALL, segments: new Array<number>(SEGMENTS_PER_ROUND_MAX + 1).fill(0), after: null }],
    ["segments is missing", { from: PEER, ranges: ALL, after: null }],
    ["after is missing", { from: PEER, ranges: ALL, segments: [0] }],
    ["after is a number", { from: PEER, ranges: ALL, segments: [0], after: 3 }],
    ["from is not a URL", { from: "peer", ranges: ALL, segments: [0], after: null }],
  ])("answers 400 when %s", async (_name, body) => {
    expect(await errorOf(await post(build(), "/api/v1/replica/segment-records", body))).toEqual({ status: 400, code: "bad_request" });
  });
});

describe("with a cluster secret", () => {
  const requests: [string, (app: App, secret?: string) => Promise<Response>][] = [
    ["POST /api/v1/replica/put", (app, secret) => putRecords(app, [GOOD], secret)],
    ["GET /api/v1/replica/get/:key", (app, secret) => get(app, "/api/v1/replica/get/k", secret)],
    ["POST /api/v1/replica/digests", (app, secret) => post(app, "/api/v1/replica/digests", { from: PEER, ranges: ALL, groups: new Array<number>(GROUPS).fill(0) }, secret)],
    ["POST /api/v1/replica/segment-digests", (app, secret) => post(app, "/api/v1/replica/segment-digests", { from: PEER, ranges: ALL, groups: [0], digests: new Array<number>(SEGMENTS_PER_GROUP).fill(0) }, secret)],
    ["POST /api/v1/replica/segment-records", (app, secret) => post(app, "/api/v1/replica/segment-records", { from: PEER, ranges: ALL, segments: [0], after: null }, secret)],
    ["POST /api/v1/admin/leave", (app, secret) => post(app, "/api/v1/admin/leave", "", secret)],
    ["POST /api/v1/admin/remove", (app, secret) => post(app, "/api/v1/admin/remove", { nodeUrl: PEER }, secret)],
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
    const app = buildThree({ secret: SECRET });
    killPeer(app);
    expect([200, 202]).toContain((await send(app, SECRET)).status);
  });

  test.each(["/api/v1/replica/put", "/api/v1/replica/digests", "/api/v1/replica/segment-digests", "/api/v1/replica/segment-records", "/api/v1/admin/remove", "/api/v1/admin/restore"])(
    "POST %s checks the secret before it reads the body: an unfinished body without it is 401, not 400",
    async (path) => {
      const app = build({ secret: SECRET });
      expect(await errorOf(await post(app, path, '{"nodeUrl":'))).toEqual({ status: 401, code: "unauthorized" });
    },
  );

  test("POST /api/v1/admin/remove takes at most REMOVE_BODY_BYTES_MAX bytes of body, even with the secret: 413 past it", async () => {
    const app = build({ secret: SECRET });
    const padded = `{"nodeUrl":"${PEER}","force":false${" ".repeat(REMOVE_BODY_BYTES_MAX)}}`;
    expect(await errorOf(await post(app, "/api/v1/admin/remove", padded, SECRET))).toEqual({ status: 413, code: "too_large" });
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

/** A third member, heard from throughout: with it this node sees a majority (two of three) when PEER is dead. */
const WITNESS = "http://127.0.0.1:7003";

/**
 * Lets the dead time pass with no news of PEER, so the node holds it dead (it stays in the ring); news of
 * WITNESS, when the app has it, keeps that one alive.
 */
function killPeer(app: App): void {
  app.clock.advance(10_000);
  if (app.node.members.get(WITNESS) !== undefined) app.node.members.apply([{ nodeUrl: WITNESS, generation: 1, heartbeat: 2, leaving: false }]);
  app.node.members.detect();
  expect(app.node.members.get(PEER)?.state).toBe("dead");
}

/** Three ring members, so a removal is made from the majority side. */
function buildThree(options: { secret?: string } = {}) {
  return buildTestApp({ ringNodes: [NODE_URL, PEER, WITNESS], replicationFactor: 2, ...options });
}

describe("POST /api/v1/admin/remove", () => {
  test("removes a member held dead: 200, it leaves the ring, and the removal is what gossip passes on", async () => {
    const app = buildThree();
    killPeer(app);
    expect(app.node.ring.nodes).toContain(PEER);
    const response = await post(app, "/api/v1/admin/remove", { nodeUrl: PEER });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "removed", nodeUrl: PEER });
    expect(app.node.ring.nodes).toEqual([NODE_URL, WITNESS]);
    expect(app.node.members.digests().find((d) => d.nodeUrl === PEER)?.removed).toBe(true);
  });

  test.each([
    ["a member not held dead", PEER, false, 409, "conflict"],
    ["this node itself", NODE_URL, true, 409, "conflict"],
    ["a URL that is no member", "http://127.0.0.1:9", true, 404, "not_found"],
  ] as const)("refuses %s and changes nothing", async (_name, target, kill, status, code) => {
    const app = buildThree();
    if (kill) killPeer(app);
    const ring = app.node.ring;
    expect(await errorOf(await post(app, "/api/v1/admin/remove", { nodeUrl: target }))).toEqual({ status, code });
    expect(app.node.ring).toBe(ring);
  });

  test("refuses with 409 on the minority side (there every member across a partition looks dead), unless forced", async () => {
    const app = build();
    killPeer(app);
    expect(await errorOf(await post(app, "/api/v1/admin/remove", { nodeUrl: PEER }))).toEqual({ status: 409, code: "conflict" });
    expect(app.node.ring.nodes).toContain(PEER);
    expect((await post(app, "/api/v1/admin/remove", { nodeUrl: PEER, force: true })).status).toBe(200);
    expect(app.node.ring.nodes).toEqual([NODE_URL]);
  });

  test("refuses a second removal of the same member with 409", async () => {
    const app = buildThree();
    killPeer(app);
    expect((await post(app, "/api/v1/admin/remove", { nodeUrl: PEER })).status).toBe(200);
    expect(await errorOf(await post(app, "/api/v1/admin/remove", { nodeUrl: PEER }))).toEqual({ status: 409, code: "conflict" });
  });

  test.each([
    ["no body", ""],
    ["a nodeUrl that is no URL", { nodeUrl: "peer" }],
    ["a nodeUrl that is a number", { nodeUrl: 8484 }],
  ])("answers 400 for %s", async (_name, body) => {
    const app = buildThree();
    killPeer(app);
    expect(await errorOf(await post(app, "/api/v1/admin/remove", body))).toEqual({ status: 400, code: "bad_request" });
    expect(app.node.ring.nodes).toContain(PEER);
  });
});

describe("the OpenAPI document", () => {
  test.each([
    ["post", "/api/v1/replica/put", "internal"],
    ["get", "/api/v1/replica/get/{key}", "internal"],
    ["post", "/api/v1/replica/digests", "internal"],
    ["post", "/api/v1/replica/segment-digests", "internal"],
    ["post", "/api/v1/replica/segment-records", "internal"],
    ["post", "/api/v1/admin/leave", "admin"],
    ["get", "/api/v1/replicas/{key}", "keys"],
  ])("lists %s %s under the %s tag", async (method, path, tag) => {
    const response = await get(build(), "/swagger/json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    expect(document.paths[path]?.[method]?.tags).toEqual([tag]);
  });
});
