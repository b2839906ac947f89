// The internal endpoints through app.handle: direct key routes that never re-route, gossip, and the cluster secret.
import { describe, expect, test } from "bun:test";
import { MEMBERS_MAX } from "../../src/membership/member-table.ts";
import type { Ack2, Syn } from "../../src/membership/messages.ts";
import { isAck } from "../../src/membership/schema.ts";
import { NodeError } from "../../src/node/errors.ts";
import type { ReplicaPeers } from "../../src/node/replication.ts";
import { SECRET_HEADER } from "../../src/node/peer-client.ts";
import { buildRing, ownerOf } from "../../src/ring/ring.ts";
import { BASE, buildTestApp, NODE_URL, START_MS, VALUE_BYTES_MAX, type Client } from "../support/app.ts";

const OTHERS = ["http://127.0.0.1:7002", "http://127.0.0.1:7003"];
const RING = [NODE_URL, ...OTHERS];
const NEWCOMER = "http://127.0.0.1:7009";
const SECRET = "correct horse battery staple";
const JSON_HEADERS = { "content-type": "application/json" };
const VNODES = 64;

/** A key of each kind, found on a ring built apart from the node's: one owned here and one owned elsewhere. */
function keyOwned(mine: boolean): string {
  const ring = buildRing(RING, VNODES);
  const key = Array.from({ length: 100 }, (_, i) => `some/key #${i}`).find((k) => (ownerOf(ring, k) === NODE_URL) === mine);
  if (key === undefined) throw new Error("no test key of that kind; widen the search");
  return key;
}
const OWN_KEY = keyOwned(true);
const FOREIGN_KEY = keyOwned(false);

/** Peers that only count calls: a direct endpoint that called one would have re-routed. */
function countingPeers(): { peers: ReplicaPeers; calls: string[] } {
  const calls: string[] = [];
  const refuse = (call: string) => (target: string) => {
    calls.push(`${call} ${target}`);
    return Promise.reject(new NodeError("unavailable", `replica ${target} is unreachable`));
  };
  return { peers: { getReplica: refuse("getReplica"), putReplica: refuse("putReplica"), versionOf: refuse("versionOf") }, calls };
}

function clusterApp(secret = "") {
  const counting = countingPeers();
  // One copy per key: OWN_KEY then lives on this node alone, so public writes need no peer.
  const built = buildTestApp({ ringNodes: RING, peers: counting.peers, secret, virtualNodes: VNODES, replicationFactor: 1 });
  expect(built.node.ring.nodes).toEqual(RING.toSorted());
  return { ...built, ...counting };
}

const directSet = (client: Client, body: unknown, headers: Record<string, string> = {}) =>
  client.path("/api/v1/set/direct", { method: "POST", headers: { ...JSON_HEADERS, ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
const directGet = (client: Client, key: string, headers: Record<string, string> = {}) => client.path(`/api/v1/direct/get/${encodeURIComponent(key)}`, { headers });
const directDel = (client: Client, key: string, headers: Record<string, string> = {}) =>
  client.path(`/api/v1/direct/del/${encodeURIComponent(key)}`, { method: "DELETE", headers });
const gossip = (client: Client, body: unknown, headers: Record<string, string> = {}) =>
  client.path("/gossip", { method: "POST", headers: { ...JSON_HEADERS, ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

function syn(from: string, digests: Syn["digests"] = [{ nodeUrl: from, generation: START_MS, heartbeat: 4 }]): Syn {
  return { type: "syn", from, digests };
}

function ack2(from: string): Ack2 {
  return { type: "ack2", from, entries: [{ nodeUrl: from, generation: START_MS, heartbeat: 4, leaving: false }] };
}

async function expectError(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toStartWith("application/json");
  const body = (await response.json()) as { error: unknown; code: unknown };
  expect(body.code).toBe(code);
  expect(typeof body.error).toBe("string");
}

describe("the direct endpoints", () => {
  test("store, read and delete on this node even a key the ring gives to another, and never re-route", async () => {
    const { client, store, calls, node } = clusterApp();
    expect(ownerOf(node.ring, FOREIGN_KEY)).not.toBe(NODE_URL);

    const set = await directSet(client, { key: FOREIGN_KEY, value: "held here" });
    expect(set.status).toBe(200);
    expect(await set.text()).toBe("OK");
    expect((await store.get(FOREIGN_KEY))?.value).toBe("held here");

    const got = await directGet(client, FOREIGN_KEY);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ value: "held here", nodeUrl: NODE_URL });

    const deleted = await directDel(client, FOREIGN_KEY);
    expect(await deleted.text()).toBe("1");
    expect(await (await directDel(client, FOREIGN_KEY)).text()).toBe("0");
    await expectError(await directGet(client, FOREIGN_KEY), 404, "not_found");
    expect(calls).toEqual([]);

    // The public route, by contrast, asks the key's replica (its owner, with one copy).
    await expectError(await client.get(FOREIGN_KEY), 503, "unavailable");
    expect(calls).toEqual([`getReplica ${ownerOf(node.ring, FOREIGN_KEY)}`]);
  });

  test("a direct write keeps its TTL on this node", async () => {
    const { client, clock } = clusterApp();
    expect((await directSet(client, { key: FOREIGN_KEY, value: "brief", ttlMs: 1000 })).status).toBe(200);
    clock.advance(1000);
    await expectError(await directGet(client, FOREIGN_KEY), 404, "not_found");
  });

  const BAD_SETS: [string, string, number, string][] = [
    ["malformed JSON", '{"key": "k", "value": ', 400, "bad_request"],
    ["an empty body", "", 400, "bad_request"],
    ["a missing key", JSON.stringify({ value: "v" }), 400, "bad_request"],
    ["an empty key", JSON.stringify({ key: "", value: "v" }), 400, "bad_request"],
    ["a key that is a number", JSON.stringify({ key: 5, value: "v" }), 400, "bad_request"],
    ["a value that is not a string", JSON.stringify({ key: "k", value: 5 }), 400, "bad_request"],
    ["a ttlMs of 0", JSON.stringify({ key: "k", value: "v", ttlMs: 0 }), 400, "bad_request"],
    ["a ttlMs given as a string", JSON.stringify({ key: "k", value: "v", ttlMs: "1000" }), 400, "bad_request"],
    ["the key ..", JSON.stringify({ key: "..", value: "v" }), 400, "bad_request"],
    ["a key over 1,024 bytes", JSON.stringify({ key: "é".repeat(513), value: "v" }), 413, "too_large"],
    ["a value over the limit", JSON.stringify({ key: "k", value: "v".repeat(VALUE_BYTES_MAX + 1) }), 413, "too_large"],
  ];

  test.each(BAD_SETS)("/set/direct answers %s with %i %s, as /set does, and stores nothing", async (_name, body, status, code) => {
    const { client, store, calls } = clusterApp();
    const request = (path: string) => client.path(path, { method: "POST", headers: JSON_HEADERS, body });
    await expectError(await request("/api/v1/set/direct"), status, code);
    await expectError(await request("/api/v1/set"), status, code);
    expect(await store.count()).toBe(0);
    expect(calls).toEqual([]);
  });

  test("the direct read and delete answer a key over 1,024 bytes with 413 too_large, as the public ones do", async () => {
    const { client } = clusterApp();
    const key = "é".repeat(513);
    await expectError(await directGet(client, key), 413, "too_large");
    await expectError(await directDel(client, key), 413, "too_large");
    await expectError(await client.get(key), 413, "too_large");
    await expectError(await client.del(key), 413, "too_large");
  });
});

describe("POST /gossip", () => {
  test("answers a SYN from an unknown node with a valid ACK that asks for it; an ACK2 makes it unconfirmed, out of the ring", async () => {
    const { client, node } = clusterApp();
    const answer = await gossip(client, syn(NEWCOMER));
    expect(answer.status).toBe(200);
    const ack: unknown = await answer.json();
    expect(isAck(ack)).toBe(true);
    if (!isAck(ack)) return;
    expect(ack.from).toBe(NODE_URL);
    expect(ack.requests).toEqual([NEWCOMER]);
    // It tells the newcomer of every member it lacks, this node included.
    expect(ack.entries.map((e) => e.nodeUrl).toSorted()).toEqual(RING.toSorted());

    const done = await gossip(client, ack2(NEWCOMER));
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ type: "done" });
    // Anyone can send these in its name: it joins once it answers this node's own SYN (test/membership).
    expect(node.members.get(NEWCOMER)).toBeUndefined();
    expect(node.members.unconfirmedUrls()).toEqual([NEWCOMER]);

    const state = (await (await client.path("/api/v1/cluster/state")).json()) as { peers: string[]; members: { url: string; state: string }[] };
    expect(state.peers).not.toContain(NEWCOMER);
    expect(state.members.map((m) => m.url)).not.toContain(NEWCOMER);
  });

  const digest = (nodeUrl: string, heartbeat: unknown = 1, generation: unknown = START_MS) => ({ nodeUrl, generation, heartbeat });
  /** A SYN as an attacker or a broken peer might send it: the digests are not checked here. */
  const rawSyn = (from: string, digests: unknown[] = [digest(from)]) => ({ type: "syn", from, digests });
  const GARBAGE: [string, string][] = [
    ["malformed JSON", '{"type": "syn", "from": '],
    ["an empty body", ""],
    ["a JSON array", JSON.stringify([syn(NEWCOMER)])],
    ["an unknown type", JSON.stringify({ ...syn(NEWCOMER), type: "hello" })],
    ["an ACK, which only ever travels as an answer", JSON.stringify({ type: "ack", from: NEWCOMER, entries: [], requests: [] })],
    ["a missing from", JSON.stringify({ type: "syn", digests: [] })],
    ["digests that are not a list", JSON.stringify({ type: "syn", from: NEWCOMER, digests: "all" })],
    ["a heartbeat given as a string", JSON.stringify(rawSyn(NEWCOMER, [digest(NEWCOMER, "4")]))],
    ["a negative heartbeat", JSON.stringify(rawSyn(NEWCOMER, [digest(NEWCOMER, -1)]))],
    ["a fractional generation", JSON.stringify(rawSyn(NEWCOMER, [digest(NEWCOMER, 1, 1.5)]))],
    ["a nodeUrl that is no URL", JSON.stringify(rawSyn(NEWCOMER, [digest("not a url")]))],
    ["a nodeUrl with a path", JSON.stringify(rawSyn(NEWCOMER, [digest("http://127.0.0.1:7009/api")]))],
    ["a from that is no URL", JSON.stringify(rawSyn("ftp://127.0.0.1:7009"))],
    ["too many digests", JSON.stringify(rawSyn(NEWCOMER, Array.from({ length: MEMBERS_MAX + 1 }, (_, i) => digest(`http://10.${i >> 8}.${i & 255}.1:8484`))))],
    ["an ACK2 entry without leaving", JSON.stringify({ type: "ack2", from: NEWCOMER, entries: [digest(NEWCOMER)] })],
    ["an ACK2 entry with a negative heartbeat", JSON.stringify({ type: "ack2", from: NEWCOMER, entries: [{ ...digest(NEWCOMER, -3), leaving: false }] })],
  ];

  test.each(GARBAGE)("answers %s with 400 JSON and leaves the member table as it was", async (_name, body) => {
    const { client, node } = clusterApp();
    const before = node.members.list();
    const ring = node.ring;
    await expectError(await gossip(client, body), 400, "bad_request");
    expect(node.members.list()).toEqual(before);
    expect(node.ring).toBe(ring);
  });
});

describe("the cluster secret", () => {
  /** Each internal endpoint with a request that would change or reveal something, and how to tell it did not. */
  const ENDPOINTS: [string, (client: Client, headers: Record<string, string>) => Promise<Response>][] = [
    ["POST /api/v1/set/direct", (client, headers) => directSet(client, { key: "secret-key", value: "v" }, headers)],
    ["GET /api/v1/direct/get/:key", (client, headers) => directGet(client, OWN_KEY, headers)],
    ["DELETE /api/v1/direct/del/:key", (client, headers) => directDel(client, OWN_KEY, headers)],
    ["POST /gossip with a SYN", (client, headers) => gossip(client, syn(NEWCOMER), headers)],
    ["POST /gossip with an ACK2", (client, headers) => gossip(client, ack2(NEWCOMER), headers)],
    ["POST /gossip with malformed JSON", (client, headers) => gossip(client, '{"type":', headers)],
    ["POST /api/v1/set/direct with a body that breaks the schema", (client, headers) => directSet(client, { key: 5 }, headers)],
  ];

  async function securedApp() {
    const app = clusterApp(SECRET);
    expect((await app.client.set(OWN_KEY, "v")).status).toBe(200);
    return app;
  }

  const WRONG: [string, Record<string, string>][] = [
    ["no secret header", {}],
    ["an empty secret header", { [SECRET_HEADER]: "" }],
    ["a wrong secret", { [SECRET_HEADER]: "correct horse battery stapl" }],
    ["the secret in another header", { authorization: SECRET }],
  ];
  const CASES = ENDPOINTS.flatMap(([endpoint, call]) => WRONG.map(([what, headers]) => [endpoint, what, call, headers] as const));

  test.each(CASES)("%s with %s gets 401 JSON and changes nothing", async (_endpoint, _what, call, headers) => {
    const { client, node, store } = await securedApp();
    const members = node.members.list();
    await expectError(await call(client, headers), 401, "unauthorized");
    expect(node.members.list()).toEqual(members);
    expect(await store.count()).toBe(1);
    expect((await store.get(OWN_KEY))?.tombstone).toBe(false);
  });

  test("with the right secret every internal endpoint works", async () => {
    const { client, node, store } = await securedApp();
    const headers = { [SECRET_HEADER]: SECRET };
    expect(await (await directSet(client, { key: "secret-key", value: "v" }, headers)).text()).toBe("OK");
    expect(await (await directGet(client, OWN_KEY, headers)).json()).toEqual({ value: "v", nodeUrl: NODE_URL });
    expect(await (await directDel(client, OWN_KEY, headers)).text()).toBe("1");
    expect(isAck(await (await gossip(client, syn(NEWCOMER), headers)).json())).toBe(true);
    expect((await gossip(client, ack2(NEWCOMER), headers)).status).toBe(200);
    expect(node.members.unconfirmedUrls()).toContain(NEWCOMER);
    expect((await store.get("secret-key"))?.value).toBe("v");
  });

  test.each([
    ["GET", `/api/v1/get/${encodeURIComponent(OWN_KEY)}`, 200],
    ["POST", "/api/v1/set", 200],
    ["DELETE", `/api/v1/del/${encodeURIComponent(OWN_KEY)}`, 200],
    ["GET", "/api/v1/keys", 200],
    ["GET", "/api/v1/cluster/state", 200],
    ["GET", "/api/v1/cluster/ring", 200],
    ["GET", "/api/v1/cluster/gossip", 200],
    ["GET", "/api/v1/health", 200],
    ["GET", "/swagger", 200],
  ])("the public route %s %s never needs the secret", async (method, path, status) => {
    const { client, node } = await securedApp();
    // The key is owned here, so the key routes answer from this node rather than forwarding.
    expect(ownerOf(node.ring, OWN_KEY)).toBe(NODE_URL);
    const body = method === "POST" ? JSON.stringify({ key: OWN_KEY, value: "v2" }) : null;
    const response = await client.handle(new Request(`${BASE}${path}`, { method, headers: JSON_HEADERS, body }));
    expect(response.status).toBe(status);
  });
});
