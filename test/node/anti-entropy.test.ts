// Anti-entropy between memory-store replicas: segment digests of the ranges two replicas share, and an exchange that leaves both with the newest.
import { describe, expect, test } from "bun:test";
import { AntiEntropy, type AntiEntropyClient, type AntiEntropyDeps } from "../../src/node/anti-entropy-loop.ts";
import { differingIndexes, groupDigests, sharedDigests } from "../../src/node/anti-entropy.ts";
import { arcsOf, sharedRanges } from "../../src/ring/arcs.ts";
import { WHOLE_RING, type RingRange } from "../../src/ring/range.ts";
import { segmentOf } from "../../src/store/segments.ts";
import { HybridClock } from "../../src/node/hlc.ts";
import { ReplicaService } from "../../src/node/replica-service.ts";
import { buildRing, replicasOf, type Ring } from "../../src/ring/ring.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { START_MS, VALUE_BYTES_MAX } from "../support/app.ts";
import { FutureBound, NO_FUTURE_BOUND } from "../../src/clock/future-bound.ts";
import { until } from "../support/until.ts";

const A = "http://127.0.5.1:8484";
const B = "http://127.0.5.2:8484";
const C = "http://127.0.5.3:8484";
const RF = 2;
/** Three nodes and two copies a key: each pair of nodes shares some keys and not others. */
const RING = buildRing([A, B, C], 32);
const replicas = (key: string) => replicasOf(RING, key, RF);
const KEYS = Array.from({ length: 400 }, (_, i) => `key-${i}`);
const SHARED_AB = KEYS.filter((key) => replicas(key).includes(A) && replicas(key).includes(B));
const SHARED_AC = KEYS.filter((key) => replicas(key).includes(A) && replicas(key).includes(C));
const SHARED_BC = KEYS.filter((key) => replicas(key).includes(B) && replicas(key).includes(C));

function record(key: string, value: string, wallMs: number, tombstone = false): StoredRecord {
  return { key, value: tombstone ? "" : value, version: { wallMs, counter: 0, node: A }, tombstone, expiresAtMs: undefined };
}

function memoryStore(): MemoryBackend {
  return new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: () => START_MS });
}

/** Three nodes, each a store and a ReplicaService, reached in-process the way the HTTP client reaches them. */
function buildNodes(rings: Partial<Record<string, Ring>> = {}, futures: Partial<Record<string, FutureBound>> = {}) {
  const nodes = new Map(
    [A, B, C].map((self) => {
      const store = memoryStore();
      const clock = new HybridClock(self, () => START_MS);
      const service = new ReplicaService({ self, store, clock, ring: () => rings[self] ?? RING, replicasFor: (ring, key) => replicasOf(ring, key, RF), arcs: (ring) => arcsOf(ring, RF), valueBytesMax: 1024 * 1024, future: futures[self] ?? NO_FUTURE_BOUND });
      return [self, { store, clock, service }] as const;
    }),
  );
  const nodeOf = (url: string) => nodes.get(url)!;
  const calls: string[] = [];
  const client: AntiEntropyClient = {
    differingGroups: (target, _from, ranges, digests) => (calls.push("groups"), nodeOf(target).service.differingGroups(ranges, digests)),
    differingSegments: (target, _from, ranges, groups, digests) => (calls.push("segments"), nodeOf(target).service.differingSegments(ranges, groups, digests)),
    segmentRecords: (target, _from, ranges, segments, after) => (calls.push("records"), nodeOf(target).service.segmentRecords(ranges, segments, after)),
    putReplica: (target, records) => (calls.push("put"), nodeOf(target).service.put(records)),
  };
  const antiEntropyOf = (self: string, more: Partial<AntiEntropyDeps> = {}) =>
    new AntiEntropy({ self, store: nodeOf(self).store, replicas: nodeOf(self).service, client, peers: () => [A, B, C].filter((url) => url !== self), random: () => 0, streamTimeoutMs: 1000, ...more });
  return { nodeOf, antiEntropyOf, calls, client };
}

async function everything(store: MemoryBackend): Promise<StoredRecord[]> {
  return store.scan(undefined, 1_000_000);
}

const WHOLE: RingRange[] = [WHOLE_RING];

test("the test keys give every pair of nodes keys to share", () => {
  for (const shared of [SHARED_AB, SHARED_AC, SHARED_BC]) expect(shared.length).toBeGreaterThan(20);
});

describe("sharedDigests", () => {
  test("are equal for equal contents, whatever order they were written in", async () => {
    const records = KEYS.slice(0, 50).map((key, i) => record(key, `v${i}`, START_MS + i, i % 7 === 0));
    const first = memoryStore();
    const second = memoryStore();
    for (const r of records) await first.put(r);
    for (const r of records.toReversed()) await second.put(r);
    const digests = await sharedDigests(first, WHOLE);
    expect(await sharedDigests(second, WHOLE)).toEqual(digests);
    expect(differingIndexes(groupDigests(digests), groupDigests(await sharedDigests(second, WHOLE)))).toEqual([]);
  });

  test.each<[string, (store: MemoryBackend, key: string) => Promise<unknown>]>([
    ["one side lacks the key", (store, key) => store.discard(key, { wallMs: START_MS, counter: 0, node: A })],
    ["one side holds a newer version", (store, key) => store.put(record(key, "v", START_MS + 1))],
    ["one side holds a tombstone of it", (store, key) => store.put(record(key, "", START_MS + 1, true))],
  ])("differ in exactly the key's segment when %s", async (_name, change) => {
    const key = KEYS[0]!;
    const first = memoryStore();
    const second = memoryStore();
    for (const store of [first, second]) for (const k of KEYS.slice(0, 50)) await store.put(record(k, "v", START_MS));
    await change(second, key);
    expect(differingIndexes(await sharedDigests(first, WHOLE), await sharedDigests(second, WHOLE))).toEqual([segmentOf(key)]);
  });

  test("count only the keys in the ranges, cutting segments at range ends by scanning them", async () => {
    const store = memoryStore();
    for (const key of KEYS) await store.put(record(key, "v", START_MS));
    const ranges = sharedRanges(arcsOf(RING, RF), A, B);
    const onlyAB = await sharedDigests(store, ranges);
    const justThose = memoryStore();
    for (const key of SHARED_AB) await justThose.put(record(key, "v", START_MS));
    expect(onlyAB).toEqual(await sharedDigests(justThose, WHOLE));
    expect((await sharedDigests(memoryStore(), WHOLE)).every((sum) => sum === 0)).toBe(true);
  });
});

describe("an exchange between two replicas", () => {
  /** Shared keys of A and B, in every way two replicas can disagree, and keys each shares with C only. */
  async function seed(nodeOf: ReturnType<typeof buildNodes>["nodeOf"]) {
    const [onlyOnA, onlyOnB, olderOnA, olderOnB, deletedOnA, deletedOnB, revivedOnB, same] = SHARED_AB;
    const a = nodeOf(A).store;
    const b = nodeOf(B).store;
    await a.put(record(onlyOnA!, "only on A", START_MS + 1));
    await b.put(record(onlyOnB!, "only on B", START_MS + 1));
    await a.put(record(olderOnA!, "old", START_MS + 1));
    await b.put(record(olderOnA!, "new", START_MS + 2));
    await a.put(record(olderOnB!, "new", START_MS + 2));
    await b.put(record(olderOnB!, "old", START_MS + 1));
    await a.put(record(deletedOnA!, "", START_MS + 2, true));
    await b.put(record(deletedOnA!, "live", START_MS + 1));
    await a.put(record(deletedOnB!, "live", START_MS + 1));
    await b.put(record(deletedOnB!, "", START_MS + 2, true));
    // Written again after a delete: the live value is the newer one.
    await a.put(record(revivedOnB!, "", START_MS + 1, true));
    await b.put(record(revivedOnB!, "back", START_MS + 2));
    await a.put(record(same!, "same", START_MS + 1));
    await b.put(record(same!, "same", START_MS + 1));
    // Keys A and B do not share: each holds a different version, and both must stay as they are.
    const [acKey] = SHARED_AC;
    const [bcKey] = SHARED_BC;
    await a.put(record(acKey!, "A's copy", START_MS + 2));
    await b.put(record(acKey!, "a stray older copy on B", START_MS + 1));
    await b.put(record(bcKey!, "B's copy", START_MS + 1));
    const newest = new Map([
      [onlyOnA!, "only on A"],
      [onlyOnB!, "only on B"],
      [olderOnA!, "new"],
      [olderOnB!, "new"],
      [deletedOnA!, ""],
      [deletedOnB!, ""],
      [revivedOnB!, "back"],
      [same!, "same"],
    ]);
    return { newest, acKey: acKey!, bcKey: bcKey! };
  }

  test("leaves both holding the newest of every shared key, tombstones included", async () => {
    const { nodeOf, antiEntropyOf } = buildNodes();
    const { newest } = await seed(nodeOf);
    const report = await antiEntropyOf(A).exchange(B);
    expect(report.peer).toBe(B);
    expect(report.segments).toBeGreaterThan(0);
    for (const [key, value] of newest) {
      const onA = await nodeOf(A).store.get(key);
      const onB = await nodeOf(B).store.get(key);
      expect(onA).toEqual(onB!);
      expect(onA?.value).toBe(value);
    }
    expect(await differingGroupsOf(nodeOf, A, B)).toEqual([]);
  });

  test("leaves keys the two do not both replicate as they were", async () => {
    const { nodeOf, antiEntropyOf } = buildNodes();
    const { acKey, bcKey } = await seed(nodeOf);
    await antiEntropyOf(A).exchange(B);
    expect((await nodeOf(A).store.get(acKey))?.value).toBe("A's copy");
    expect((await nodeOf(B).store.get(acKey))?.value).toBe("a stray older copy on B");
    expect(await nodeOf(A).store.get(bcKey)).toBeUndefined();
    expect(await everything(nodeOf(C).store)).toEqual([]);
  });

  test("a second exchange finds nothing to do", async () => {
    const { nodeOf, antiEntropyOf } = buildNodes();
    await seed(nodeOf);
    await antiEntropyOf(A).exchange(B);
    const before = { a: await everything(nodeOf(A).store), b: await everything(nodeOf(B).store) };
    expect(await antiEntropyOf(A).exchange(B)).toEqual({ peer: B, segments: 0, pushed: 0, pulled: 0, early: 0 });
    expect(await antiEntropyOf(B).exchange(A)).toEqual({ peer: A, segments: 0, pushed: 0, pulled: 0, early: 0 });
    expect({ a: await everything(nodeOf(A).store), b: await everything(nodeOf(B).store) }).toEqual(before);
  });

  test("identical replicas exchange the group digests and nothing else", async () => {
    const { nodeOf, antiEntropyOf, calls } = buildNodes();
    for (const key of SHARED_AB) for (const node of [A, B]) await nodeOf(node).store.put(record(key, "same", START_MS));
    await antiEntropyOf(A).exchange(B);
    expect(calls).toEqual(["groups"]);
  });

  test("a difference in one key moves that key's segment and nothing more", async () => {
    const { nodeOf, antiEntropyOf, calls } = buildNodes();
    for (const key of SHARED_AB) for (const node of [A, B]) await nodeOf(node).store.put(record(key, "same", START_MS));
    await nodeOf(B).store.put(record(SHARED_AB[5]!, "newer", START_MS + 1));
    const report = await antiEntropyOf(A).exchange(B);
    expect(report).toEqual({ peer: B, segments: 1, pushed: 0, pulled: 1, early: 0 });
    expect(calls).toEqual(["groups", "segments", "records"]);
  });

  test("counts what it pulled as repairs, and the puller's clock moves past the versions it took", async () => {
    const { nodeOf, antiEntropyOf } = buildNodes();
    await nodeOf(B).store.put(record(SHARED_AB[0]!, "from B", START_MS + 5_000));
    const antiEntropy = antiEntropyOf(A);
    const report = await antiEntropy.exchange(B);
    expect([report.pulled, antiEntropy.repairedCount]).toEqual([1, 1]);
    expect(nodeOf(A).clock.tick().wallMs).toBe(START_MS + 5_000);
  });

  test("while the peer's ring differs (it has not learned of C yet), identical replicas still compare equal and nothing moves", async () => {
    // B's ring lacks C, so on B's ring A and B share every key; on A's they share SHARED_AB only.
    const { nodeOf, antiEntropyOf } = buildNodes({ [B]: buildRing([A, B], 32) });
    for (const key of SHARED_AB) {
      await nodeOf(A).store.put(record(key, "same", START_MS + 1));
      await nodeOf(B).store.put(record(key, "same", START_MS + 1));
    }
    // Keys A does not replicate on its ring: B holds them (with C), A must neither compare nor receive them.
    for (const key of SHARED_BC.filter((key) => !SHARED_AB.includes(key))) await nodeOf(B).store.put(record(key, "b and c", START_MS + 1));
    const report = await antiEntropyOf(A).exchange(B);
    expect(report).toMatchObject({ segments: 0, pulled: 0, pushed: 0 });
    expect((await everything(nodeOf(A).store)).map((r) => r.key).sort()).toEqual([...SHARED_AB].sort());
  });

  test("pages through more records than one request holds", async () => {
    const { nodeOf, antiEntropyOf } = buildNodes();
    // Large values make several pages of the bucket-records answer.
    const big = "x".repeat(200 * 1024);
    const keys = SHARED_AB.slice(0, 40);
    for (const [i, key] of keys.entries()) await nodeOf(B).store.put(record(key, `${i}${big}`, START_MS + 1));
    const page = await nodeOf(B).service.segmentRecords(nodeOf(A).service.sharedRanges(B), [...new Set(keys.map(segmentOf))], undefined);
    expect(page.next).toBeDefined();
    const report = await antiEntropyOf(A).exchange(B);
    expect(report.pulled).toBe(keys.length);
    for (const key of keys) expect(await nodeOf(A).store.get(key)).toEqual((await nodeOf(B).store.get(key))!);
  });

  test("rounds compare with every live peer in turn, even where random draws would repeat one", async () => {
    const antiEntropy = buildNodes().antiEntropyOf(A);
    const peers: string[] = [];
    for (let round = 0; round < 4; round++) peers.push((await antiEntropy.round())!.peer);
    expect(peers.slice(0, 2).toSorted()).toEqual([B, C]);
    expect(peers.slice(2).toSorted()).toEqual([B, C]);
  });

  test("a peer back from being down is compared with at the next look, before the others", async () => {
    const { nodeOf, antiEntropyOf } = buildNodes();
    let live = [B, C];
    const antiEntropy = antiEntropyOf(A, { peers: () => live });
    antiEntropy.watch();
    live = [C];
    antiEntropy.watch();
    // While B was cut off, A took writes B should hold.
    for (const key of SHARED_AB.slice(0, 5)) await nodeOf(A).store.put(record(key, "while B was away", START_MS + 5));
    live = [B, C];
    antiEntropy.watch();
    await until("the round with B", () => antiEntropy.last?.peer === B);
    for (const key of SHARED_AB.slice(0, 5)) expect((await nodeOf(B).store.get(key))?.value).toBe("while B was away");
  });

  test("records from beyond the future bound wait, and the peer is compared with again once they are within it", async () => {
    const { nodeOf, antiEntropyOf, calls } = buildNodes();
    let wallMs = START_MS;
    let nowMs = 0;
    const future = new FutureBound({ maxSkewMs: 500, clock: () => wallMs });
    const antiEntropy = antiEntropyOf(A, { future, now: () => nowMs });
    // B took these while its clock ran 30 s ahead; one record alone in its page is what A cannot take yet.
    const [ahead, timely] = SHARED_AB as [string, string];
    await nodeOf(B).store.put(record(ahead, "from the future", START_MS + 30_000));
    await nodeOf(B).store.put(record(timely, "now", START_MS));
    antiEntropy.watch();
    const first = await antiEntropy.exchange(B);
    expect(first).toMatchObject({ pulled: 1, early: 1 });
    expect(await nodeOf(A).store.get(ahead)).toBeUndefined();
    expect((await nodeOf(A).store.get(timely))?.value).toBe("now");
    // Until the version is within the bound, nothing is due; then B comes first, and the record moves.
    wallMs = START_MS + 29_000;
    nowMs = 29_000;
    const asked = calls.length;
    antiEntropy.watch();
    await Bun.sleep(0);
    expect(calls.length).toBe(asked);
    wallMs = START_MS + 30_000;
    nowMs = 31_000;
    antiEntropy.watch();
    await until("the second round with B", async () => (await nodeOf(A).store.get(ahead))?.value === "from the future");
    expect(antiEntropy.last).toMatchObject({ peer: B, pulled: 1, early: 0 });
  });

  test("this node's records from beyond the future bound are not pushed until they are within it", async () => {
    const { nodeOf, antiEntropyOf } = buildNodes();
    let wallMs = START_MS;
    let nowMs = 0;
    const antiEntropy = antiEntropyOf(A, { future: new FutureBound({ maxSkewMs: 500, clock: () => wallMs }), now: () => nowMs });
    // A took these while its own clock ran 30 s ahead; B, whose clock is right, would refuse the first.
    const [ahead, timely] = SHARED_AB as [string, string];
    await nodeOf(A).store.put(record(ahead, "from the future", START_MS + 30_000));
    await nodeOf(A).store.put(record(timely, "now", START_MS));
    expect(await antiEntropy.exchange(B)).toMatchObject({ pushed: 1, early: 1 });
    expect(await nodeOf(B).store.get(ahead)).toBeUndefined();
    expect((await nodeOf(B).store.get(timely))?.value).toBe("now");
    wallMs = START_MS + 30_000;
    nowMs = 31_000;
    antiEntropy.watch();
    await until("the second round with B", async () => (await nodeOf(B).store.get(ahead))?.value === "from the future");
  });

  test("a chunk the peer refuses as from the future is counted early and the rest of the exchange goes on", async () => {
    // B's clock is behind A's: it refuses what A finds timely.
    const { nodeOf, antiEntropyOf } = buildNodes({}, { [B]: new FutureBound({ maxSkewMs: 500, clock: () => START_MS - 10_000 }) });
    const keys = SHARED_AB.slice(0, 3);
    for (const key of keys) await nodeOf(A).store.put(record(key, "A's", START_MS));
    await nodeOf(B).store.put(record(SHARED_AB[5]!, "B's", START_MS - 20_000));
    const report = await antiEntropyOf(A).exchange(B);
    expect(report).toMatchObject({ pushed: 0, early: keys.length, pulled: 1 });
    expect((await nodeOf(A).store.get(SHARED_AB[5]!))?.value).toBe("B's");
  });

  test("the peer is compared with again for records from the future even when the exchange fails after finding them", async () => {
    const { nodeOf, antiEntropyOf, client } = buildNodes();
    let wallMs = START_MS;
    let nowMs = 0;
    let failPushes = true;
    const antiEntropy = antiEntropyOf(A, {
      future: new FutureBound({ maxSkewMs: 500, clock: () => wallMs }),
      now: () => nowMs,
      client: { ...client, putReplica: (target, records, timeoutMs) => (failPushes ? Promise.reject(new Error("connection reset")) : client.putReplica(target, records, timeoutMs)) },
    });
    const [ahead, mine] = SHARED_AB as [string, string];
    await nodeOf(B).store.put(record(ahead, "from the future", START_MS + 30_000));
    await nodeOf(A).store.put(record(mine, "A's", START_MS));
    await expect(antiEntropy.exchange(B)).rejects.toThrow("connection reset");
    failPushes = false;
    wallMs = START_MS + 30_000;
    nowMs = 31_000;
    antiEntropy.watch();
    await until("the retry with B", async () => (await nodeOf(A).store.get(ahead))?.value === "from the future");
  });

  test("a pulled record from the future that this node holds as it is calls for no retry", async () => {
    const { nodeOf, antiEntropyOf } = buildNodes();
    const antiEntropy = antiEntropyOf(A, { future: new FutureBound({ maxSkewMs: 500, clock: () => START_MS }) });
    const ahead = SHARED_AB[0]!;
    const future = record(ahead, "from the future", START_MS + 30_000);
    await nodeOf(A).store.put(future);
    await nodeOf(B).store.put(future);
    // A key of the same segment that only B holds makes that segment differ, so B sends the future record along.
    let n = 0;
    while (segmentOf(`n-${n}`) !== segmentOf(ahead) || !replicas(`n-${n}`).includes(B)) n++;
    const neighbour = `n-${n}`;
    await nodeOf(B).store.put(record(neighbour, "B's", START_MS));
    const report = await antiEntropy.exchange(B);
    expect(report).toMatchObject({ segments: 1, pulled: 1, early: 0 });
  });

  test("a round with a peer that fails mid-exchange reports nothing and throws nothing", async () => {
    const store = memoryStore();
    const service = new ReplicaService({ self: A, store, clock: new HybridClock(A), ring: () => RING, replicasFor: (ring, key) => replicasOf(ring, key, RF), arcs: (ring) => arcsOf(ring, RF), valueBytesMax: 1024 * 1024, future: NO_FUTURE_BOUND });
    const failing: AntiEntropyClient = {
      differingGroups: () => Promise.reject(new Error("connection refused")),
      differingSegments: () => Promise.reject(new Error("connection refused")),
      segmentRecords: () => Promise.reject(new Error("connection refused")),
      putReplica: () => Promise.reject(new Error("connection refused")),
    };
    const antiEntropy = new AntiEntropy({ self: A, store, replicas: service, client: failing, peers: () => [B], random: () => 0, streamTimeoutMs: 1000 });
    expect(await antiEntropy.round()).toBeUndefined();
    expect(antiEntropy.last).toBeUndefined();
  });
});

async function differingGroupsOf(nodeOf: ReturnType<typeof buildNodes>["nodeOf"], self: string, peer: string): Promise<number[]> {
  const digests = await sharedDigests(nodeOf(self).store, nodeOf(self).service.sharedRanges(peer));
  return nodeOf(peer).service.differingGroups(nodeOf(self).service.sharedRanges(peer), groupDigests(digests));
}
