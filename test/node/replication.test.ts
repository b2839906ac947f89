// Quorum writes and reads through LimeNode and Replication, with three replicas (this node and two fakes) of every key.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { statusOf } from "../../src/http/errors.ts";
import { MemberTable } from "../../src/membership/member-table.ts";
import { NodeError } from "../../src/node/errors.ts";
import { HintStore } from "../../src/node/hint-store.ts";
import { HybridClock } from "../../src/node/hlc.ts";
import { LimeNode, RING_CHANGE_READ_ALL_MS } from "../../src/node/node.ts";
import { quorumOf, Replication } from "../../src/node/replication.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import type { StoredRecord, Version } from "../../src/store/record.ts";
import { buildTestApp, NODE_URL, START_MS, testClock, VALUE_BYTES_MAX } from "../support/app.ts";
import { FakeReplicas } from "../support/fake-replicas.ts";
import { failureOf } from "../support/failure.ts";
import { tempDir } from "../support/temp-dir.ts";
import { until } from "../support/until.ts";

const SELF = "http://127.0.1.1:8484";
const PEER_A = "http://127.0.1.2:8484";
const PEER_B = "http://127.0.1.3:8484";
const NODES = [SELF, PEER_A, PEER_B];
const KEY = "user:42";

/** RF=3 over three nodes: every key lives on all of them, and W = R = 2 (a majority). */
function buildCluster(
  options: { hintsPath?: string; peersJoinAfterStart?: boolean; down?: ReadonlySet<string>; clockSuspect?: boolean; onVersionRefused?: () => void } = {},
) {
  const errors: { what: string; error: unknown }[] = [];
  const clock = testClock();
  const members = new MemberTable(SELF, START_MS, clock.now, { staleAfterMs: 3000, deadAfterMs: 5000 });
  const joinPeers = () => members.apply([PEER_A, PEER_B].map((nodeUrl) => ({ nodeUrl, generation: 1, heartbeat: 1, leaving: false })));
  if (options.peersJoinAfterStart !== true) joinPeers();
  const replicas = new FakeReplicas([PEER_A, PEER_B], clock.now);
  const store = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: clock.now });
  const hints = new HintStore(options.hintsPath ?? ":memory:", clock.now);
  const down = options.down;
  const replication = new Replication({
    self: SELF,
    store,
    peers: replicas,
    hints,
    timeoutMs: 1000,
    now: clock.now,
    onError: (what, error) => errors.push({ what, error }),
    isDown: down === undefined ? undefined : (url) => down.has(url),
    clockSuspect: () => options.clockSuspect === true,
    onVersionRefused: options.onVersionRefused,
  });
  const node = new LimeNode({
    nodeUrl: SELF,
    store,
    members,
    replication,
    vnodesPerNode: 16,
    clock: new HybridClock(SELF, clock.now),
    wallClock: clock.now,
    valueBytesMax: VALUE_BYTES_MAX,
    replicationFactor: 3,
    writeQuorum: 0,
    readQuorum: 0,
  });
  // Peers learnt after the start change the node's ring, as gossip does when a node joins.
  if (options.peersJoinAfterStart === true) joinPeers();
  /** What each node holds of a key, by URL. */
  const held = async (key: string) => ({
    [SELF]: await store.get(key),
    [PEER_A]: await replicas.store(PEER_A).get(key),
    [PEER_B]: await replicas.store(PEER_B).get(key),
  });
  return { node, store, replicas, hints, replication, clock, held, errors };
}

/** Resolves in the next event-loop turn, once the reads of this one are done choosing replicas. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function record(value: string, version: Partial<Version> = {}, tombstone = false): StoredRecord {
  return { key: KEY, value, version: { wallMs: START_MS, counter: 0, node: SELF, ...version }, tombstone, expiresAtMs: undefined };
}


test("every key has all three nodes as replicas, so each test below reaches every node", () => {
  const { node } = buildCluster();
  expect(node.replicasFor(KEY).toSorted()).toEqual(NODES.toSorted());
});

describe("writes", () => {
  test("a write succeeds with one replica down and leaves a durable hint for it", async () => {
    await using dir = await tempDir();
    const hintsPath = join(dir.path, "hints.sqlite");
    const { node, replicas, hints, held } = buildCluster({ hintsPath });
    replicas.setMode(PEER_B, "down");
    await node.set(KEY, "v1", undefined);
    const now = await held(KEY);
    expect([now[SELF]?.value, now[PEER_A]?.value, now[PEER_B]]).toEqual(["v1", "v1", undefined]);
    await until("the hint for the down replica is stored", () => hints.count() === 1);
    hints.close();
    const reopened = new HintStore(hintsPath, () => START_MS);
    try {
      const [hint, ...rest] = reopened.batch(PEER_B, 10);
      expect(rest).toEqual([]);
      expect(hint?.record).toEqual(now[SELF]!);
      expect(reopened.backlog()).toEqual(new Map([[PEER_B, 1]]));
    } finally {
      reopened.close();
    }
  });

  test("a write with a replica down still succeeds when the hint cannot be stored (the disk failed)", async () => {
    await using dir = await tempDir();
    const notAFolder = join(dir.path, "file");
    await Bun.write(notAFolder, "a file where the hints folder should be");
    const { node, replicas, errors } = buildCluster({ hintsPath: join(notAFolder, "hints.sqlite") });
    replicas.setMode(PEER_B, "down");
    await node.set(KEY, "v1", undefined);
    // The hint is written once every replica answered, after the client's answer: its failure is reported, never thrown.
    await until("the failed hint is reported", () => errors.length === 1);
    expect(errors[0]?.what).toBe("hint");
    expect((await node.get(KEY)).value).toBe("v1");
  });

  test("a write that every replica takes leaves no hint", async () => {
    const { node, hints, held } = buildCluster();
    await node.set(KEY, "v1", undefined);
    await until("every replica holds the write", async () => Object.values(await held(KEY)).every((r) => r?.value === "v1"));
    expect(hints.count()).toBe(0);
  });

  test("a write fails with 503 when two replicas are down, says it may or may not have been applied, and hints both", async () => {
    const { node, replicas, hints, store } = buildCluster();
    replicas.setMode(PEER_A, "down");
    replicas.setMode(PEER_B, "down");
    const error = await failureOf(node.set(KEY, "v1", undefined));
    expect(error.code).toBe("unavailable");
    expect(statusOf(error.code)).toBe(503);
    expect(error.message).toContain("may or may not have been applied");
    // It was applied here: the client cannot know, which is what the message says.
    expect((await store.get(KEY))?.value).toBe("v1");
    await until("both down replicas have a hint", () => hints.count() === 2);
    expect(hints.backlog()).toEqual(new Map([[PEER_A, 1], [PEER_B, 1]]));
  });

  test("a slow replica does not hold the write back, and gets a hint when it finally fails", async () => {
    const { node, replicas, hints } = buildCluster();
    replicas.setMode(PEER_B, "slow");
    await node.set(KEY, "v1", undefined);
    expect(replicas.held).toBe(1);
    expect(hints.count()).toBe(0);
    replicas.setMode(PEER_B, "down");
    replicas.release();
    await until("the replica that timed out has a hint", () => hints.count() === 1);
  });

  test("a coordinator whose clock is behind a replica's version retries, and its acknowledged write is the newest", async () => {
    const { node, store, replicas, held } = buildCluster();
    // Another coordinator, an hour ahead, wrote this key on two of the three replicas.
    const ahead = record("from the future", { wallMs: START_MS + 3_600_000, node: PEER_A });
    await store.put(ahead);
    await replicas.store(PEER_A).put(ahead);
    await node.set(KEY, "now", undefined);
    expect(await node.get(KEY)).toMatchObject({ value: "now" });
    await until("every replica holds the retried write", async () => Object.values(await held(KEY)).every((r) => r?.value === "now"));
    const acknowledged = (await held(KEY))[SELF]!;
    expect(acknowledged.version.wallMs).toBe(ahead.version.wallMs);
    expect(acknowledged.version.counter).toBeGreaterThan(ahead.version.counter);
  });
});

test("a read of one replica fails as a rejected promise, never a throw: a replica held down, a transport that throws before it returns a promise", async () => {
  const { replication, replicas } = buildCluster({ down: new Set([PEER_B]) });
  const read = (replica: string) => {
    // Not expect().not.toThrow(): it takes a returned rejected promise for a throw.
    let pending: Promise<unknown> | "threw";
    try {
      pending = replication.read(KEY, [replica], 1);
    } catch {
      pending = "threw";
    }
    expect(pending).toBeInstanceOf(Promise);
    return pending as Promise<unknown>;
  };
  expect(await failureOf(read(PEER_B))).toMatchObject({ code: "unavailable" });
  replicas.getReplica = () => {
    throw new NodeError("unavailable", "thrown before any promise");
  };
  expect(await failureOf(read(PEER_A))).toMatchObject({ code: "unavailable", message: "thrown before any promise" });
});

test("in a quorum read, a replica whose transport throws before it returns a promise fails alone: the others still answer the read", async () => {
  const { replication, replicas } = buildCluster();
  await replicas.store(PEER_B).put(record("v1"));
  const getReplica = replicas.getReplica.bind(replicas);
  replicas.getReplica = (target, key) => {
    if (target === PEER_A) throw new NodeError("unavailable", "thrown before any promise");
    return getReplica(target, key);
  };
  // This node is no replica here, so both others are asked for the whole record and one answer makes the quorum.
  const { record: read, from } = await replication.read(KEY, [PEER_A, PEER_B], 1);
  expect({ value: read?.value, from }).toEqual({ value: "v1", from: PEER_B });
});

test("a read with a failed step settles with what that step made of a failure, on one replica or several, and never rejects", async () => {
  const { replication, replicas, store } = buildCluster();
  await replicas.store(PEER_A).put(record("held"));
  await store.put(record("mine"));
  const failed = (error: unknown) => `failed: ${(error as Error).message}`;
  const valueOf = ({ record: read }: { record: StoredRecord | undefined }) => {
    if (read === undefined) throw new Error("not here");
    return read.value;
  };
  // One other replica: its record, its absence through the next step's throw, and its refusal.
  expect(await replication.read(KEY, [PEER_A], 1, false, valueOf, failed)).toBe("held");
  expect(await replication.read("other", [PEER_A], 1, false, valueOf, failed)).toBe("failed: not here");
  const getReplica = replicas.getReplica.bind(replicas);
  replicas.getReplica = (target, key) => (target === PEER_B ? Promise.reject(new NodeError("unavailable", "B is down")) : getReplica(target, key));
  expect(await replication.read(KEY, [PEER_B], 1, false, valueOf, failed)).toBe("failed: B is down");
  // This node alone, and a quorum of several.
  expect(await replication.read("other", [SELF], 1, false, valueOf, failed)).toBe("failed: not here");
  expect(await replication.read(KEY, [SELF, PEER_A], 2, false, valueOf, failed)).toBe("mine");
  // A replica held down: refused before any call, through the failed step too.
  const { replication: withDown } = buildCluster({ down: new Set([PEER_A]) });
  expect(await withDown.read(KEY, [PEER_A], 1, false, valueOf, failed)).toMatch(/^failed: .+/);
});

describe("reads", () => {
  const older = record("older", { wallMs: START_MS + 1 });
  const newer = record("newer", { wallMs: START_MS + 2 });
  test.each<[string, StoredRecord | undefined, StoredRecord | undefined, string, string]>([
    ["this node holds the newer version", newer, older, "newer", SELF],
    ["the other replica holds the newer version", older, newer, "newer", PEER_A],
    ["only the other replica holds the key", undefined, older, "older", PEER_A],
    ["the counter breaks a tie of wall time", record("counter 1", { counter: 1 }), record("counter 2", { counter: 2 }), "counter 2", PEER_A],
    ["the writing node breaks a tie of wall time and counter", record("by 127.0.1.1", { node: SELF }), record("by 127.0.1.9", { node: "http://127.0.1.9:8484" }), "by 127.0.1.9", PEER_A],
  ])("when %s, a read returns the newest version among the answers", async (_name, mine, theirs, value, from) => {
    const { node, store, replicas } = buildCluster();
    // The third replica stays silent, so the answer comes from exactly this node and PEER_A.
    replicas.setMode(PEER_B, "slow");
    await replicas.store(PEER_B).put(record("newest but silent", { wallMs: START_MS + 100 }));
    if (mine !== undefined) await store.put(mine);
    if (theirs !== undefined) await replicas.store(PEER_A).put(theirs);
    expect(await node.get(KEY)).toEqual({ value, nodeUrl: from });
    replicas.release();
  });

  test("a key no replica holds is not_found (404)", async () => {
    const { node } = buildCluster();
    const error = await failureOf(node.get(KEY));
    expect([error.code, statusOf(error.code)]).toEqual(["not_found", 404]);
  });

  test("a read succeeds with one replica down and fails with 503 with two down", async () => {
    const { node, replicas } = buildCluster();
    await node.set(KEY, "v1", undefined);
    replicas.setMode(PEER_B, "down");
    expect(await node.get(KEY)).toMatchObject({ value: "v1" });
    replicas.setMode(PEER_A, "down");
    expect((await failureOf(node.get(KEY))).code).toBe("unavailable");
  });

  test("a read asks this node and one other replica, in turn per event-loop turn; each it asks that held older is repaired before it answers", async () => {
    const { node, store, replicas, replication, held } = buildCluster();
    const newest = record("v2", { wallMs: START_MS + 2 });
    await store.put(newest);
    await replicas.store(PEER_A).put(record("v1", { wallMs: START_MS + 1 }));
    expect(await node.get(KEY)).toEqual({ value: "v2", nodeUrl: SELF });
    // One other replica was asked (a digest read), and it alone was repaired.
    const first = replicas.calls.filter((call) => call.op === "version").map((call) => call.target);
    expect(first).toHaveLength(1);
    expect((await held(KEY) as Record<string, unknown>)[first[0]!]).toEqual(newest);
    expect(replication.repairedCount).toBe(1);
    // A read in the next event-loop turn asks the other one, and repairs it too.
    await nextTurn();
    expect(await node.get(KEY)).toEqual({ value: "v2", nodeUrl: SELF });
    const asked = replicas.calls.filter((call) => call.op === "version").map((call) => call.target);
    expect(new Set(asked)).toEqual(new Set([PEER_A, PEER_B]));
    expect(await held(KEY)).toEqual({ [SELF]: newest, [PEER_A]: newest, [PEER_B]: newest });
    expect(replication.repairedCount).toBe(2);
  });

  test("the reads of one event-loop turn all ask the same other replica, whatever their keys' ring order; the next turn's ask the other", async () => {
    const { node, replicas } = buildCluster();
    const keys = Array.from({ length: 24 }, (_, n) => `turn-key-${n}`);
    for (const key of keys) await node.set(key, "v", undefined);
    // The keys' replicas come in different ring orders, so a choice by position would split a turn's reads.
    expect(new Set(keys.map((key) => node.replicasFor(key).join(" "))).size).toBeGreaterThan(1);
    const askedIn = async (): Promise<string[]> => {
      await nextTurn();
      replicas.calls.length = 0;
      await Promise.all(keys.map((key) => node.get(key)));
      return [...new Set(replicas.calls.filter((call) => call.op === "version").map((call) => call.target))];
    };
    const first = await askedIn();
    const second = await askedIn();
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(1);
    expect(new Set([...first, ...second])).toEqual(new Set([PEER_A, PEER_B]));
  });

  test("when the replica asked fails, one not asked stands in: its newer version is returned and repaired here", async () => {
    const { node, store, replicas, held } = buildCluster();
    const newest = record("v3", { wallMs: START_MS + 3 });
    await store.put(record("v1", { wallMs: START_MS + 1 }));
    await replicas.store(PEER_A).put(newest);
    await replicas.store(PEER_B).put(newest);
    replicas.setMode(PEER_A, "down");
    // Two reads: in turn, one of them asks PEER_A first, and PEER_B stands in for it.
    expect(await node.get(KEY)).toEqual({ value: "v3", nodeUrl: PEER_B });
    // Repaired here by the first, the second finds the same version on this node.
    expect((await node.get(KEY)).value).toBe("v3");
    const calls = replicas.calls.map((call) => `${call.op} ${call.target}`);
    expect(calls.join("|")).toContain(`version ${PEER_A}|version ${PEER_B}|get ${PEER_B}`);
    expect((await held(KEY))[SELF]).toEqual(newest);
  });

  test("with a replica down, the read asks this node and the other one in ring order, whichever comes first, and returns this node's record", async () => {
    const { replication, store, replicas } = buildCluster({ down: new Set([PEER_B]) });
    const held = record("v1", { wallMs: START_MS + 1 });
    await store.put(held);
    await replicas.store(PEER_A).put(held);
    // Both replicas up are asked (R = 2 of them); PEER_A comes before this node in the key's replicas.
    for (const order of [[PEER_A, SELF, PEER_B], [SELF, PEER_A, PEER_B]]) {
      expect(await replication.read(KEY, order, 2)).toEqual({ record: held, from: SELF });
    }
  });

  test("when the replica asked fails late, the one standing in gets only what is left of the read's time: the client hears 504 within it", async () => {
    const { node, store, replicas, clock } = buildCluster();
    await store.put(record("v1", { wallMs: START_MS + 1 }));
    replicas.setMode(PEER_A, "slow");
    replicas.setMode(PEER_B, "slow");
    const failure = failureOf(node.get(KEY));
    await until("a replica is asked for its version", () => replicas.calls.some((call) => call.op === "version"));
    const [asked] = replicas.calls.filter((call) => call.op === "version").map((call) => call.target);
    // 990 of the read's 1,000 ms pass (on the clock the node reads) before the asked replica fails; the other one, slow, then stands in.
    clock.advance(990);
    replicas.setMode(asked!, "down");
    const failedAtMs = performance.now();
    replicas.release();
    const error = await failure;
    expect(error.code).toBe("timeout");
    // 10 ms were left; given the read's whole time anew, the stand-in would end it 1,000 ms after the failure.
    expect(performance.now() - failedAtMs).toBeLessThan(500);
    replicas.release();
  });
});

describe("reads while the ring changes", () => {
  test("right after a ring change a read waits for every replica and returns the newest any holds; after the window the first quorum does", async () => {
    const { node, store, replicas, clock } = buildCluster({ peersJoinAfterStart: true });
    await store.put(record("v1", { wallMs: START_MS + 1 }));
    await replicas.store(PEER_A).put(record("v2", { wallMs: START_MS + 2 }));
    await replicas.store(PEER_B).put(record("v3 only on the slow one", { wallMs: START_MS + 3 }));
    replicas.setMode(PEER_B, "slow");
    const during = node.get(KEY);
    // Two of three have answered long before this; the read still waits for the third.
    expect(await Promise.race([during.then(() => "answered"), Bun.sleep(50).then(() => "waiting")])).toBe("waiting");
    replicas.release();
    // It answered with its version only (a digest read); the newest record is then fetched from it.
    await until("the slow one is asked for its record", () => replicas.held === 1);
    replicas.release();
    expect(await during).toEqual({ value: "v3 only on the slow one", nodeUrl: PEER_B });
    expect(replicas.calls.filter((call) => call.target === PEER_B).map((call) => call.op)).toEqual(["version", "get"]);

    clock.advance(RING_CHANGE_READ_ALL_MS);
    await replicas.store(PEER_B).put(record("v4 only on the slow one", { wallMs: START_MS + 4 }));
    replicas.setMode(PEER_B, "slow");
    expect((await node.get(KEY)).value).toBe("v3 only on the slow one");
    replicas.release();
  });
});

describe("deletes", () => {
  test("a delete leaves a tombstone on every replica, and a GET after it is 404", async () => {
    const { node, held } = buildCluster();
    await node.set(KEY, "v1", undefined);
    expect(await node.del(KEY)).toBe(true);
    await until("every replica holds the tombstone", async () => Object.values(await held(KEY)).every((r) => r?.tombstone === true));
    expect((await failureOf(node.get(KEY))).code).toBe("not_found");
    expect(await node.del(KEY)).toBe(false);
  });

  test("a late write older than the tombstone does not bring the key back", async () => {
    const { node, store, replicas, held } = buildCluster();
    await node.set(KEY, "v1", undefined);
    await until("every replica holds the write", async () => Object.values(await held(KEY)).every((r) => r?.value === "v1"));
    const written = (await store.get(KEY))!;
    await node.del(KEY);
    await until("every replica holds the tombstone", async () => Object.values(await held(KEY)).every((r) => r?.tombstone === true));
    // The write arrives again, late: a hint delivered after the delete, or a slow rebalance.
    expect(await replicas.putReplica(PEER_A, [written])).toEqual([{ applied: false, replacedLive: false }]);
    expect(await store.put(written)).toEqual({ applied: false, replacedLive: false });
    expect((await failureOf(node.get(KEY))).code).toBe("not_found");
  });

  test("an expiry is a delete too: a replica that missed the expiring write does not bring the older value back, by a read or by its copy", async () => {
    const { node, store, replicas, held, clock } = buildCluster();
    const older = record("older value", { wallMs: START_MS - 1000 });
    const expiring = { ...record("expiring value", { wallMs: START_MS }), expiresAtMs: START_MS + 1000 };
    // This node and PEER_A took the expiring write; PEER_B missed it and still holds the older value.
    await store.put(expiring);
    await replicas.putReplica(PEER_A, [expiring]);
    await replicas.putReplica(PEER_B, [older]);
    clock.advance(2000);
    // Whichever replica a read asks, the expired write is the newest version: not found, and PEER_B is repaired.
    for (let i = 0; i < 2; i++) {
      expect((await failureOf(node.get(KEY))).code).toBe("not_found");
      await nextTurn();
    }
    await until("PEER_B holds the expired write", async () => (await held(KEY))[PEER_B]?.version.wallMs === START_MS);
    // PEER_B's old copy, sent again (anti-entropy, a rebalance, a hint), is refused everywhere.
    expect(await store.put(older)).toEqual({ applied: false, replacedLive: false });
    expect(await replicas.putReplica(PEER_A, [older])).toEqual([{ applied: false, replacedLive: false }]);
    expect((await failureOf(node.get(KEY))).code).toBe("not_found");
  });

  test("a write after an expiry, from a coordinator whose clock is behind the expired version, is retried past it and acknowledged", async () => {
    const { node, store, replicas, clock } = buildCluster();
    // Expired at this instant, and its version ahead of what this node's clock issues at it (a higher counter).
    const ahead = { ...record("expiring value", { wallMs: START_MS + 6000, counter: 9, node: PEER_A }), expiresAtMs: START_MS + 6000 };
    for (const peer of [PEER_A, PEER_B]) await replicas.putReplica(peer, [ahead]);
    await store.put(ahead);
    clock.advance(6000);
    expect((await failureOf(node.get(KEY))).code).toBe("not_found");
    await node.set(KEY, "after the expiry", undefined);
    expect((await node.get(KEY)).value).toBe("after the expiry");
    expect((await store.get(KEY))!.version).toMatchObject({ wallMs: START_MS + 6000, counter: 10, node: SELF });
  });

  test("a delete while one replica is down reaches it by its hint, not by a resurrection", async () => {
    const { node, replicas, hints } = buildCluster();
    await node.set(KEY, "v1", undefined);
    replicas.setMode(PEER_B, "down");
    await node.del(KEY);
    await until("the down replica has a hint", () => hints.count() === 1);
    expect(hints.batch(PEER_B, 10).map((hint) => hint.record.tombstone)).toEqual([true]);
  });
});

test.each([
  [0, 1, 1],
  [0, 2, 2],
  [0, 3, 2],
  [0, 4, 3],
  [0, 5, 3],
  [1, 3, 1],
  [2, 3, 2],
  [3, 3, 3],
  [5, 3, 3],
  [2, 1, 1],
])("quorumOf(%p configured, %p replicas) is %p", (configured, replicas, expected) => {
  expect(quorumOf(configured, replicas)).toBe(expected);
});

interface ReplicaOut {
  nodeUrl: string;
  holds: boolean;
  version: Version | null;
  tombstone: boolean;
  error?: string;
}

describe("GET /api/v1/replicas/:key", () => {
  const PEERS = ["http://127.0.0.1:7002", "http://127.0.0.1:7003"];

  test("lists each replica of the key and the version it holds", async () => {
    const clock = testClock();
    const replicas = new FakeReplicas(PEERS, clock.now);
    const { client, store } = buildTestApp({ clock, ringNodes: [NODE_URL, ...PEERS], peers: replicas, replicationFactor: 3 });
    expect((await client.set(KEY, "v1")).status).toBe(200);
    const stale = { ...(await store.get(KEY))!, version: { wallMs: START_MS - 1, counter: 0, node: NODE_URL } };
    await replicas.store(PEERS[1]!).discard(KEY, (await replicas.store(PEERS[1]!).get(KEY))!.version);
    await replicas.store(PEERS[1]!).put(stale);
    const response = await client.path(`/api/v1/replicas/${KEY}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { key: string; replicas: ReplicaOut[] };
    expect(body.key).toBe(KEY);
    const byNode = Object.fromEntries(body.replicas.map((replica) => [replica.nodeUrl, replica]));
    const written = (await store.get(KEY))!.version;
    expect(byNode).toEqual({
      [NODE_URL]: { nodeUrl: NODE_URL, holds: true, version: written, tombstone: false },
      [PEERS[0]!]: { nodeUrl: PEERS[0]!, holds: true, version: written, tombstone: false },
      [PEERS[1]!]: { nodeUrl: PEERS[1]!, holds: true, version: stale.version, tombstone: false },
    });
  });

  test("reports a replica that cannot be asked, and one that holds nothing, without failing", async () => {
    const clock = testClock();
    const replicas = new FakeReplicas(PEERS, clock.now);
    const { client } = buildTestApp({ clock, ringNodes: [NODE_URL, ...PEERS], peers: replicas, replicationFactor: 3 });
    replicas.setMode(PEERS[0]!, "down");
    const body = (await (await client.path(`/api/v1/replicas/${KEY}`)).json()) as { replicas: ReplicaOut[] };
    const byNode = Object.fromEntries(body.replicas.map((replica) => [replica.nodeUrl, replica]));
    expect(Object.keys(byNode).toSorted()).toEqual([NODE_URL, ...PEERS].toSorted());
    expect(byNode[PEERS[0]!]).toMatchObject({ holds: false, error: expect.stringContaining("unreachable") });
    expect(byNode[PEERS[1]!]).toEqual({ nodeUrl: PEERS[1]!, holds: false, version: null, tombstone: false });
  });
});

describe("strict quorums: replicas that are down", () => {
  test("with one of three down a write is acknowledged by the other two, and the down one gets a hint without being called", async () => {
    const { node, replicas, hints, held } = buildCluster({ down: new Set([PEER_B]) });
    replicas.setMode(PEER_B, "slow");
    await node.set(KEY, "v1", undefined);
    expect((await held(KEY))[PEER_A]?.value).toBe("v1");
    expect(hints.backlog().get(PEER_B)).toBe(1);
    // Never called: a held call would have kept the write waiting for the slow replica.
    replicas.release();
    expect((await held(KEY))[PEER_B]).toBeUndefined();
  });

  test("with two of three down a write answers 503 at once saying it was not applied: nothing is stored, no hint kept", async () => {
    const { node, store, hints, held } = buildCluster({ down: new Set([PEER_A, PEER_B]) });
    const failure = await failureOf(node.set(KEY, "v1", undefined));
    expect(failure.code).toBe("unavailable");
    expect(statusOf(failure.code)).toBe(503);
    expect(failure.message).toContain("the write was not applied");
    expect(await store.get(KEY)).toBeUndefined();
    expect(Object.values(await held(KEY))).toEqual([undefined, undefined, undefined]);
    expect(hints.count()).toBe(0);
  });

  test("with two of three down a read answers 503 without asking anyone", async () => {
    const { node, store } = buildCluster({ down: new Set([PEER_A, PEER_B]) });
    await store.put(record("v1"));
    const failure = await failureOf(node.get(KEY));
    expect(failure.code).toBe("unavailable");
    expect(failure.message).toContain("nothing was read");
  });
});

describe("monotonic reads", () => {
  test("a read returns a version only once the replicas of its quorum hold it: a later read of any quorum sees it", async () => {
    const { node, store, replicas, held } = buildCluster();
    // A write that reached one replica only (its coordinator failed): whoever reads it first makes it durable.
    await replicas.store(PEER_A).put(record("v2 on one replica", { wallMs: START_MS + 2 }));
    await store.put(record("v1", { wallMs: START_MS + 1 }));
    replicas.setMode(PEER_B, "slow");
    expect((await node.get(KEY)).value).toBe("v2 on one replica");
    // Before the answer, this node (the other member of the quorum) was given it, with PEER_B still waiting.
    expect((await store.get(KEY))?.value).toBe("v2 on one replica");
    replicas.setMode(PEER_B, "up");
    replicas.release();
    // Now the quorum {this node, PEER_B} that would have missed it sees it too.
    replicas.setMode(PEER_A, "down");
    expect((await node.get(KEY)).value).toBe("v2 on one replica");
    await until("every replica holds it", async () => Object.values(await held(KEY)).every((r) => r?.value === "v2 on one replica"));
  });

  test("a read whose blocking repair cannot be made fails rather than return a version a later read might miss", async () => {
    const { node, store, replicas } = buildCluster();
    await store.put(record("v2 here only", { wallMs: START_MS + 2 }));
    await replicas.store(PEER_A).put(record("v1", { wallMs: START_MS + 1 }));
    await replicas.store(PEER_B).put(record("v1", { wallMs: START_MS + 1 }));
    // PEER_A answers the read, then refuses the repair; PEER_B is slow and never part of the quorum.
    replicas.setMode(PEER_B, "slow");
    const refuse = replicas.failPutsOf(PEER_A);
    const failure = await failureOf(node.get(KEY));
    expect(failure.code).toBe("unavailable");
    expect(failure.message).toContain("could not be written back");
    refuse();
    replicas.release();
  });
});

describe("the coordinator's own copy while its clock is suspect", () => {
  test("is stored only once another replica accepted the version, and then the write is acknowledged as before", async () => {
    const { node, store, replicas, held } = buildCluster({ clockSuspect: true });
    replicas.setMode(PEER_A, "slow");
    replicas.setMode(PEER_B, "slow");
    const written = node.set(KEY, "v1", undefined);
    await until("both peers hold the write", () => replicas.held === 2);
    expect(await store.get(KEY)).toBeUndefined();
    replicas.setMode(PEER_A, "up");
    replicas.setMode(PEER_B, "up");
    replicas.release();
    await written;
    expect(Object.values(await held(KEY)).map((r) => r?.value)).toEqual(["v1", "v1", "v1"]);
  });

  test("a version the other replicas refuse as from the future is taken back here, and the write fails with 503, no hint kept", async () => {
    let refusals = 0;
    const { node, store, replicas, hints } = buildCluster({ onVersionRefused: () => refusals++ });
    await store.put(record("v0", { wallMs: START_MS - 1 }));
    replicas.failPutsOf(PEER_A, "clock_skew");
    replicas.failPutsOf(PEER_B, "clock_skew");
    const failure = await failureOf(node.set(KEY, "v1 from a clock ahead", undefined));
    expect(failure.code).toBe("unavailable");
    expect(statusOf(failure.code)).toBe(503);
    expect(refusals).toBeGreaterThan(0);
    await until("the own copy is taken back", async () => (await store.get(KEY)) === undefined);
    expect(hints.count()).toBe(0);
  });

  test("a version refused by one replica only (its clock is behind) is kept here: another replica took it, so the write stands on two", async () => {
    let refusals = 0;
    const { node, store, replicas } = buildCluster({ onVersionRefused: () => refusals++ });
    replicas.failPutsOf(PEER_B, "clock_skew");
    await node.set(KEY, "v1", undefined);
    // Every call has settled: the refusal did not take this node's copy back, nor make its clock suspect.
    await until("the refusing replica was asked", () => replicas.calls.some((call) => call.op === "put" && call.target === PEER_B));
    for (let turn = 0; turn < 20; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect((await store.get(KEY))?.value).toBe("v1");
    expect((await replicas.store(PEER_A).get(KEY))?.value).toBe("v1");
    expect(refusals).toBe(0);
  });

  test("is not stored at all when no other replica accepts the version: the write fails, 'may or may not'", async () => {
    const { node, store, replicas } = buildCluster({ clockSuspect: true });
    replicas.setMode(PEER_A, "down");
    replicas.setMode(PEER_B, "down");
    const failure = await failureOf(node.set(KEY, "v1", undefined));
    expect(failure.message).toContain("may or may not have been applied");
    expect(await store.get(KEY)).toBeUndefined();
  });
});
