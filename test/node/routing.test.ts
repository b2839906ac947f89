// LimeNode's routing with fake replicas and one copy per key: own keys stay local, others go to exactly their owner, and the ring follows membership.
import { describe, expect, test } from "bun:test";
import { MemberTable } from "../../src/membership/member-table.ts";
import { NodeError, type NodeErrorCode } from "../../src/node/errors.ts";
import { HybridClock } from "../../src/node/hlc.ts";
import { HintStore } from "../../src/node/hint-store.ts";
import { LimeNode } from "../../src/node/node.ts";
import { Replication, type ReplicaPeers } from "../../src/node/replication.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { buildRing, ownerOf, type Ring } from "../../src/ring/ring.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import { failureOf } from "../support/failure.ts";
import { testClock, type TestClock } from "../support/app.ts";

const SELF = "http://127.0.0.1:8484";
const PEERS = ["http://127.0.0.2:8484", "http://127.0.0.3:8484", "http://127.0.0.4:8484", "http://127.0.0.5:8484"];
const NEWCOMER = "http://127.0.0.9:8484";
const VICTIM = PEERS[1]!;
const GEN = 1_700_000_000_000;
const VNODES = 64;
const STALE_AFTER_MS = 3000;
const DEAD_AFTER_MS = 5000;
const VALUE_BYTES_MAX = 1024 * 1024;
/** Enough keys that every member owns several of them. */
const KEYS = Array.from({ length: 300 }, (_, i) => `key-${i}`);

interface PeerCall {
  readonly call: "get" | "put" | "version";
  readonly target: string;
  readonly key: string;
  readonly value?: string;
  readonly tombstone?: boolean;
  readonly expiresAtMs?: number | undefined;
}

/** Replicas that record each call and keep what they are sent, one map per target, last write winning. */
function recordingPeers() {
  const calls: PeerCall[] = [];
  const stores = new Map<string, Map<string, StoredRecord>>();
  const storeOf = (target: string) => stores.get(target) ?? stores.set(target, new Map()).get(target)!;
  let failWith: NodeErrorCode | undefined;
  const fail = () => {
    if (failWith !== undefined) throw new NodeError(failWith, "the replica failed");
  };
  const peers: ReplicaPeers = {
    async getReplica(target, key) {
      calls.push({ call: "get", target, key });
      fail();
      return storeOf(target).get(key);
    },
    async versionOf(target, key) {
      calls.push({ call: "version", target, key });
      fail();
      return storeOf(target).get(key)?.version;
    },
    async putReplica(target, records) {
      fail();
      return records.map((record) => {
        calls.push({ call: "put", target, key: record.key, value: record.value, tombstone: record.tombstone, expiresAtMs: record.expiresAtMs });
        const held = storeOf(target).get(record.key);
        const replacedLive = held !== undefined && !held.tombstone;
        storeOf(target).set(record.key, record);
        return { applied: true, replacedLive };
      });
    },
  };
  return { peers, calls, storeOf, failWith: (code: NodeErrorCode | undefined) => (failWith = code) };
}

/** One copy per key, so each key has exactly one owner to route to; replication has tests of its own. */
function buildNode(clock: TestClock = testClock()) {
  const members = new MemberTable(SELF, GEN, clock.now, { staleAfterMs: STALE_AFTER_MS, deadAfterMs: DEAD_AFTER_MS });
  members.apply(PEERS.map((nodeUrl) => ({ nodeUrl, generation: GEN, heartbeat: 1, leaving: false })));
  const recording = recordingPeers();
  const store = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: clock.now });
  const node = new LimeNode({
    nodeUrl: SELF,
    store,
    members,
    replication: new Replication({
      self: SELF,
      store,
      peers: recording.peers,
      hints: new HintStore(":memory:", clock.now),
      timeoutMs: 1000,
      isDown: (url) => members.isDead(url),
    }),
    vnodesPerNode: VNODES,
    clock: new HybridClock(SELF, clock.now),
    wallClock: clock.now,
    valueBytesMax: VALUE_BYTES_MAX,
    replicationFactor: 1,
    writeQuorum: 0,
    readQuorum: 0,
  });
  return { node, members, store, clock, ...recording };
}

/** Rings built apart from the node's, one per member set. */
const rings = new Map<string, Ring>();

/** Owners as the SPEC defines them, from a ring built apart from the node's. */
function expectedOwner(alive: readonly string[], key: string): string {
  const name = alive.toSorted().join(" ");
  const ring = rings.get(name) ?? rings.set(name, buildRing(alive, VNODES)).get(name)!;
  const owner = ownerOf(ring, key);
  if (owner === undefined) throw new Error("an empty ring has no owners");
  return owner;
}

/** Lets `ms` pass in which every peer but `silent` is heard from, then runs the detector. */
function silence(members: MemberTable, clock: TestClock, silent: string, ms: number): void {
  clock.advance(ms);
  // The clock's progress as a heartbeat: always newer than the last one applied.
  const heartbeat = clock.now() - GEN + 1;
  members.apply(PEERS.filter((url) => url !== silent).map((nodeUrl) => ({ nodeUrl, generation: GEN, heartbeat, leaving: false })));
  members.detect();
}

async function codeOf(call: Promise<unknown>): Promise<NodeErrorCode> {
  try {
    await call;
  } catch (error) {
    if (error instanceof NodeError) return error.code;
    throw error;
  }
  throw new Error("the call succeeded; a failure was expected");
}

const ALL = [SELF, ...PEERS];
const OWN_KEYS = KEYS.filter((key) => expectedOwner(ALL, key) === SELF);
const FOREIGN_KEYS = KEYS.filter((key) => expectedOwner(ALL, key) !== SELF);

/** The code a call throws at once, when it throws at all. */
function thrownCode(call: () => unknown): NodeErrorCode | "none" {
  try {
    call();
  } catch (error) {
    if (error instanceof NodeError) return error.code;
    throw error;
  }
  return "none";
}

describe("reads answered at once", () => {
  test("a key this node alone holds is read with no promise: its value, or not_found thrown for one missing, deleted or expired", async () => {
    const { node, clock, calls } = buildNode();
    const [kept, deleted, expiring, never] = OWN_KEYS;
    await node.set(kept!, "v", undefined);
    await node.set(deleted!, "v", undefined);
    await node.del(deleted!);
    await node.set(expiring!, "v", 1000);
    expect(node.getQuick(kept!)).toEqual({ value: "v", nodeUrl: SELF });
    expect(node.getQuick(expiring!)).toEqual({ value: "v", nodeUrl: SELF });
    clock.advance(1000);
    for (const key of [deleted!, expiring!, never!]) expect(thrownCode(() => node.getQuick(key))).toBe("not_found");
    expect(thrownCode(() => node.getQuick(""))).toBe("bad_request");
    expect(calls).toEqual([]);
  });

  test("a key another node holds is a promise of that node's answer", async () => {
    const { node, calls } = buildNode();
    const key = FOREIGN_KEYS[0]!;
    await node.set(key, "v", undefined);
    const read = node.getQuick(key);
    expect(read).toBeInstanceOf(Promise);
    expect(await read).toEqual({ value: "v", nodeUrl: expectedOwner(ALL, key) });
    expect(calls.filter((call) => call.call === "get")).toEqual([{ call: "get", target: expectedOwner(ALL, key), key }]);
  });
});

describe("routing by owner", () => {
  test("the test keys are spread over every member, so both paths are exercised", () => {
    expect(new Set(KEYS.map((key) => expectedOwner(ALL, key)))).toEqual(new Set(ALL));
    expect(OWN_KEYS.length).toBeGreaterThan(10);
  });

  test("keys this node owns are served from its own store and never forwarded", async () => {
    const { node, store, calls } = buildNode();
    for (const key of OWN_KEYS) await node.set(key, `v-${key}`, undefined);
    for (const key of OWN_KEYS) expect(await node.get(key)).toEqual({ value: `v-${key}`, nodeUrl: SELF });
    for (const key of OWN_KEYS) expect((await store.get(key))?.value).toBe(`v-${key}`);
    for (const key of OWN_KEYS) expect(await node.del(key)).toBe(true);
    expect(await codeOf(node.get(OWN_KEYS[0]!))).toBe("not_found");
    expect(calls).toEqual([]);
  });

  test("keys another node owns go to exactly that owner, as versioned records, and nothing is stored here", async () => {
    const { node, store, calls, clock } = buildNode();
    for (const key of FOREIGN_KEYS) {
      const owner = expectedOwner(ALL, key);
      calls.length = 0;
      await node.set(key, "v", 60_000);
      expect(await node.get(key)).toEqual({ value: "v", nodeUrl: owner });
      expect(await node.del(key)).toBe(true);
      expect(await node.del(key)).toBe(false);
      expect(calls).toEqual([
        { call: "put", target: owner, key, value: "v", tombstone: false, expiresAtMs: clock.now() + 60_000 },
        { call: "get", target: owner, key },
        { call: "put", target: owner, key, value: "", tombstone: true, expiresAtMs: undefined },
        { call: "put", target: owner, key, value: "", tombstone: true, expiresAtMs: undefined },
      ]);
    }
    expect(await store.count()).toBe(0);
  });

  test("a key the owner does not hold is not_found here too", async () => {
    const { node } = buildNode();
    expect(await codeOf(node.get(FOREIGN_KEYS[0]!))).toBe("not_found");
  });

  test.each(["unavailable", "timeout", "too_large", "bad_request"] as const)("an owner's %s failure reaches the caller as it is", async (code) => {
    const { node, failWith } = buildNode();
    failWith(code);
    const key = FOREIGN_KEYS[0]!;
    for (const call of [node.get(key), node.set(key, "v", undefined), node.del(key)]) expect(await codeOf(call)).toBe(code);
  });

  test("a read's failure is a rejected promise, never a throw: a bad key, and a transport that throws before it returns a promise", async () => {
    const { node, peers } = buildNode();
    const reads = (key: string) => {
      // Not expect().not.toThrow(): it takes a returned rejected promise for a throw.
      let pending: Promise<unknown>[] | "threw";
      try {
        pending = [node.get(key), node.lookup(key)];
      } catch {
        pending = "threw";
      }
      expect(pending).not.toBe("threw");
      return pending as Promise<unknown>[];
    };
    for (const read of reads("")) expect(await codeOf(read)).toBe("bad_request");
    (peers as { getReplica: ReplicaPeers["getReplica"] }).getReplica = () => {
      throw new NodeError("unavailable", "thrown before any promise");
    };
    for (const read of reads(FOREIGN_KEYS[0]!)) expect(await codeOf(read)).toBe("unavailable");
  });
});

describe("routing follows membership", () => {
  test("a member that dies keeps its keys: no request goes to it, its keys answer 503 saying nothing was applied, the others' keys route as before", async () => {
    const { node, members, clock, calls, storeOf } = buildNode();
    const victimKeys = KEYS.filter((key) => expectedOwner(ALL, key) === VICTIM);
    expect(victimKeys.length).toBeGreaterThan(0);
    const ring = node.ring;
    silence(members, clock, VICTIM, DEAD_AFTER_MS);
    expect(members.get(VICTIM)?.state).toBe("dead");
    expect(node.ring).toBe(ring);
    expect(node.ring.nodes).toContain(VICTIM);

    for (const key of KEYS) {
      const written = node.set(key, "v", undefined);
      if (!victimKeys.includes(key)) {
        await written;
        continue;
      }
      const failure = await failureOf(written);
      expect(failure.code).toBe("unavailable");
      expect(failure.message).toContain("the write was not applied");
    }
    expect(calls.map((c) => c.target)).not.toContain(VICTIM);
    expect(storeOf(VICTIM).size).toBe(0);
    // No other node took the dead member's keys: with one copy, each key has exactly its one owner.
    expect(calls.map((c) => `${c.key} ${c.target}`)).toEqual(
      KEYS.filter((key) => !victimKeys.includes(key) && expectedOwner(ALL, key) !== SELF).map((key) => `${key} ${expectedOwner(ALL, key)}`),
    );
  });

  test("a removed member leaves the ring: its keys go to their next owners", async () => {
    const { node, members, clock, calls } = buildNode();
    silence(members, clock, VICTIM, DEAD_AFTER_MS);
    expect(members.remove(VICTIM)).toEqual({ ok: true });
    expect(node.ring.nodes).not.toContain(VICTIM);
    const rest = ALL.filter((url) => url !== VICTIM);
    for (const key of KEYS) await node.set(key, "v", undefined);
    expect(calls.map((c) => `${c.key} ${c.target}`)).toEqual(KEYS.filter((key) => expectedOwner(rest, key) !== SELF).map((key) => `${key} ${expectedOwner(rest, key)}`));
  });

  test("a stale member is only suspect: it keeps its keys", async () => {
    const { node, members, clock, calls } = buildNode();
    silence(members, clock, VICTIM, STALE_AFTER_MS);
    expect(members.get(VICTIM)?.state).toBe("stale");
    const key = KEYS.find((k) => expectedOwner(ALL, k) === VICTIM)!;
    await node.set(key, "v", undefined);
    expect(calls).toEqual([{ call: "put", target: VICTIM, key, value: "v", tombstone: false, expiresAtMs: undefined }]);
  });

  test("a member that joins takes its keys at once, and a dead member that returns takes its keys back", async () => {
    const { node, members, clock, calls } = buildNode();
    silence(members, clock, VICTIM, DEAD_AFTER_MS);
    members.apply([
      { nodeUrl: NEWCOMER, generation: GEN, heartbeat: 1, leaving: false },
      { nodeUrl: VICTIM, generation: GEN + 1, heartbeat: 0, leaving: false },
    ]);
    const everyone = [...ALL, NEWCOMER];
    expect(node.ring.nodes).toEqual(everyone.toSorted());
    for (const key of KEYS) await node.get(key).catch(() => undefined);
    const expected = KEYS.filter((key) => expectedOwner(everyone, key) !== SELF).map((key) => `${key} ${expectedOwner(everyone, key)}`);
    expect(calls.map((c) => `${c.key} ${c.target}`)).toEqual(expected);
    expect(calls.map((c) => c.target)).toContain(NEWCOMER);
    expect(calls.map((c) => c.target)).toContain(VICTIM);
  });

  test("the ring is swapped whole: a change that moves no one (stale, dead) keeps the same ring, one that does (a removal) builds a new one", () => {
    const { node, members, clock } = buildNode();
    const before = node.ring;
    silence(members, clock, VICTIM, STALE_AFTER_MS);
    expect(node.ring).toBe(before);
    silence(members, clock, VICTIM, DEAD_AFTER_MS - STALE_AFTER_MS);
    expect(node.ring).toBe(before);
    members.remove(VICTIM);
    expect(node.ring).not.toBe(before);
    expect(before.nodes).toContain(VICTIM);
  });
});
