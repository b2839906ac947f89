// The Rebalancer over real memory stores: records reach exactly their new replicas, and a copy goes only once they hold it.
import { afterEach, describe, expect, jest, test } from "bun:test";
import { buildRing, replicasOf, type Ring } from "../../src/ring/ring.ts";
import { arcsOf } from "../../src/ring/arcs.ts";
import type { RingRange } from "../../src/ring/range.ts";
import { segmentOf } from "../../src/store/segments.ts";
import { AsyncLocalStorage } from "node:async_hooks";
import { REBALANCE_RETRY_MS, Rebalancer, type PassReport, type RebalanceDeps } from "../../src/node/rebalancer.ts";
import { StoreError } from "../../src/store/errors.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { START_MS, VALUE_BYTES_MAX } from "../support/app.ts";
import { TURNS_MAX, until } from "../support/until.ts";

const N1 = "http://127.0.4.1:8484";
const N2 = "http://127.0.4.2:8484";
const N3 = "http://127.0.4.3:8484";
const N4 = "http://127.0.4.4:8484";
const N5 = "http://127.0.4.5:8484";
const RF = 2;
const VNODES = 32;
/** Enough keys that every node holds, gains and loses several; every fifth is a tombstone. */
const KEYS = Array.from({ length: 300 }, (_, i) => `key-${String(i).padStart(3, "0")}`);

const RING_3 = buildRing([N1, N2, N3], VNODES);
const RING_4 = buildRing([N1, N2, N3, N4], VNODES);
const RING_5 = buildRing([N1, N2, N3, N4, N5], VNODES);

const replicas = (ring: Ring, key: string) => replicasOf(ring, key, RF);

function recordOf(key: string, index: number): StoredRecord {
  const tombstone = index % 5 === 0;
  return { key, value: tombstone ? "" : `value of ${key}`, version: { wallMs: START_MS + index, counter: 0, node: N1 }, tombstone, expiresAtMs: undefined };
}
const RECORDS = KEYS.map(recordOf);

/** A memory store whose scans can be made to fail, and which notes when a pass starts reading it. */
class WatchedStore extends MemoryBackend {
  failScans = 0;
  /** Range reads so far: none means no pass read anything. */
  scans = 0;

  override async scanRing(range: RingRange, afterKey: string | undefined, limit: number): Promise<StoredRecord[]> {
    this.scans++;
    if (this.failScans > 0) {
      this.failScans--;
      throw new StoreError("io", "disk I/O error");
    }
    return super.scanRing(range, afterKey, limit);
  }
}

/**
 * Five nodes' stores with every record on its replicas under `initial`, and a rebalancer for each
 * node that holds data. A push writes into the target's store, last write wins, unless the target fails.
 */
async function buildNodes(initial: Ring, seams: Pick<RebalanceDeps, "detach"> & { onPush?: () => void } = {}) {
  const stores = new Map([N1, N2, N3, N4, N5].map((url) => [url, new WatchedStore({ valueBytesMax: VALUE_BYTES_MAX, clock: () => START_MS })]));
  const storeOf = (url: string) => stores.get(url)!;
  for (const record of RECORDS) for (const url of replicas(initial, record.key)) await storeOf(url).put(record);
  const failing = new Set<string>();
  let gate: Promise<void> | undefined;
  let gated: ((records: readonly StoredRecord[]) => boolean) | undefined;
  /** Pushes waiting at the gate right now. */
  const held = { count: 0 };
  const reports = new Map<string, PassReport[]>();
  /** Every record each target was sent, by key: how often a range crossed the wire. */
  const received = new Map<string, Map<string, number>>();
  const errors: unknown[] = [];
  const rebalancers = new Map(
    initial.nodes.map((self) => {
      const rebalancer = new Rebalancer(
        {
          self,
          store: storeOf(self),
          arcs: (ring) => arcsOf(ring, RF),
          push: async (target, records) => {
            seams.onPush?.();
            if (gate !== undefined && (gated === undefined || gated(records))) {
              held.count++;
              await gate;
              held.count--;
            }
            if (failing.has(target)) throw new Error(`${target} is unreachable`);
            const tally = received.get(target) ?? new Map<string, number>();
            for (const record of records) tally.set(record.key, (tally.get(record.key) ?? 0) + 1);
            received.set(target, tally);
            for (const record of records) await storeOf(target).put(record);
          },
          onPass: (report) => reports.set(self, [...(reports.get(self) ?? []), report]),
          onError: (error) => errors.push(error),
          detach: seams.detach,
        },
        initial,
      );
      return [self, rebalancer] as const;
    }),
  );
  return {
    storeOf,
    failing,
    reports,
    errors,
    received,
    rebalancer: (url: string) => rebalancers.get(url)!,
    all: [...rebalancers.values()],
    /** Holds every push (or those `only` picks) until `until` resolves. */
    hold: (until: Promise<void> | undefined, only?: (records: readonly StoredRecord[]) => boolean) => {
      gate = until;
      gated = only;
    },
    held,
    /** The nodes holding each key, and whether each holds exactly the record written. */
    async holders(key: string): Promise<string[]> {
      const out: string[] = [];
      for (const url of [N1, N2, N3, N4, N5]) if ((await storeOf(url).get(key)) !== undefined) out.push(url);
      return out;
    },
    [Symbol.dispose]() {
      for (const rebalancer of rebalancers.values()) rebalancer.stop();
    },
  };
}

afterEach(() => {
  jest.useRealTimers();
});

test("the test data moves: the join gives N4 keys and takes keys from each old node", () => {
  const moved = KEYS.filter((key) => replicas(RING_4, key).includes(N4));
  expect(moved.length).toBeGreaterThan(20);
  for (const url of [N1, N2, N3]) expect(moved.some((key) => replicas(RING_3, key).includes(url) && !replicas(RING_4, key).includes(url))).toBe(true);
  expect(moved.some((key) => recordOf(key, KEYS.indexOf(key)).tombstone)).toBe(true);
});

describe("after a node joins", () => {
  test("each record, tombstones included, reaches exactly its new replicas, and settle resolves once it has", async () => {
    using nodes = await buildNodes(RING_3);
    for (const rebalancer of nodes.all) rebalancer.ringChanged(RING_4);
    await Promise.all(nodes.all.map((rebalancer) => rebalancer.settle()));
    for (const [index, key] of KEYS.entries()) {
      expect(await nodes.holders(key)).toEqual(replicas(RING_4, key).toSorted());
      for (const url of replicas(RING_4, key)) expect(await nodes.storeOf(url).get(key)).toEqual(recordOf(key, index));
    }
    for (const rebalancer of nodes.all) expect(rebalancer.progress).toMatchObject({ running: false, pending: false, passes: 1 });
    const dropped = nodes.all.reduce((sum, rebalancer) => sum + rebalancer.progress.dropped, 0);
    expect(dropped).toBe(KEYS.filter((key) => replicas(RING_4, key).includes(N4)).length);
    expect(nodes.errors).toEqual([]);
  });

  test("each key reaches the new node once: one replica sends each moved range, and only moved ranges are read", async () => {
    using nodes = await buildNodes(RING_3);
    for (const rebalancer of nodes.all) rebalancer.ringChanged(RING_4);
    await Promise.all(nodes.all.map((rebalancer) => rebalancer.settle()));
    const gained = KEYS.filter((key) => replicas(RING_4, key).includes(N4));
    const atN4 = nodes.received.get(N4)!;
    expect([...atN4.keys()].sort()).toEqual(gained);
    for (const key of gained) expect(atN4.get(key)).toBe(1);
    // Keys whose replicas did not change were not read at all.
    const scanned = nodes.all.reduce((sum, rebalancer) => sum + (rebalancer.progress.last?.scanned ?? 0), 0);
    expect(scanned).toBe(gained.length);
  });

  test("a node drops nothing while a new replica fails, and places everything once a later retry reaches it", async () => {
    jest.useFakeTimers();
    using nodes = await buildNodes(RING_3);
    nodes.failing.add(N4);
    for (const rebalancer of nodes.all) rebalancer.ringChanged(RING_4);
    await until("every node finished its first pass", () => [N1, N2, N3].every((url) => (nodes.reports.get(url)?.length ?? 0) === 1));
    for (const url of [N1, N2, N3]) expect(nodes.reports.get(url)![0]).toMatchObject({ failedTargets: [N4], dropped: 0 });
    for (const key of KEYS) expect(await nodes.holders(key)).toEqual(replicas(RING_3, key).toSorted());
    // Between the failed pass and its retry nothing runs, yet the data is not placed: pending says so.
    for (const rebalancer of nodes.all.slice(0, 3)) expect(rebalancer.progress).toMatchObject({ running: false, pending: true });

    nodes.failing.delete(N4);
    jest.advanceTimersByTime(REBALANCE_RETRY_MS);
    await until("every node finished its retry", () => [N1, N2, N3].every((url) => (nodes.reports.get(url)?.length ?? 0) === 2));
    for (const key of KEYS) expect(await nodes.holders(key)).toEqual(replicas(RING_4, key).toSorted());
    for (const url of [N1, N2, N3]) expect(nodes.reports.get(url)![1]!.failedTargets).toEqual([]);
    for (const rebalancer of nodes.all) expect(rebalancer.progress.pending).toBe(false);
  });
});

describe("passes", () => {
  test("run apart from whatever woke them: a ring change learnt inside a request carries none of its context into the streaming, retries included", async () => {
    jest.useFakeTimers();
    const context = new AsyncLocalStorage<string>();
    const seenAtPush: (string | undefined)[] = [];
    using nodes = await buildNodes(RING_3, { detach: (run) => context.run("detached", run), onPush: () => seenAtPush.push(context.getStore()) });
    nodes.failing.add(N4);
    context.run("a gossip request", () => {
      for (const rebalancer of nodes.all) rebalancer.ringChanged(RING_4);
    });
    await until("every node finished its first pass", () => [N1, N2, N3].every((url) => (nodes.reports.get(url)?.length ?? 0) === 1));
    const firstPushes = seenAtPush.length;
    // The retry is woken by a timer set while the request's context was current.
    nodes.failing.delete(N4);
    jest.advanceTimersByTime(REBALANCE_RETRY_MS);
    await until("every node finished its retry", () => [N1, N2, N3].every((url) => (nodes.reports.get(url)?.length ?? 0) === 2));
    expect(firstPushes).toBeGreaterThan(0);
    expect(seenAtPush.length).toBeGreaterThan(firstPushes);
    expect(new Set(seenAtPush)).toEqual(new Set(["detached"]));
  });

  test("never overlap, and the latest ring wins", async () => {
    using nodes = await buildNodes(RING_3);
    const rebalancer = nodes.rebalancer(N1);
    let open: () => void = () => {};
    nodes.hold(new Promise<void>((resolve) => (open = resolve)));
    rebalancer.ringChanged(RING_4);
    await until("the first pass is pushing", () => rebalancer.progress.running && nodes.held.count > 0);
    const scansWhileHeld = nodes.storeOf(N1).scans;
    rebalancer.ringChanged(RING_5);
    rebalancer.ringChanged(RING_5);
    await Bun.sleep(20);
    expect(nodes.storeOf(N1).scans).toBe(scansWhileHeld);
    expect(nodes.reports.get(N1)).toBeUndefined();
    nodes.hold(undefined);
    open();
    // The pass for the newer ring follows at once (settle would add its retry pause here, which only a failed pass needs).
    // It is started by a 0 ms timer, which Bun runs after 1 ms at the soonest: quick turns can pass 1000 of themselves
    // before it fires (4 runs in 10 failed so on a fast host), so the wait counts more turns than the usual bound.
    await until("the second pass finished", () => (nodes.reports.get(N1)?.length ?? 0) === 2, 50 * TURNS_MAX);
    await rebalancer.settle();
    // Two passes, one after the other: RING_3 to RING_4, then RING_4 to RING_5.
    expect(nodes.reports.get(N1)).toHaveLength(2);
    expect(rebalancer.progress.running).toBe(false);
    // N1 keeps what it replicates under RING_5, and whatever it gave up reached the replicas that gained it in the
    // ring it gave it up under (what it keeps is sent to new replicas by the replica that gives it up, not running here).
    for (const key of KEYS.filter((k) => replicas(RING_3, k).includes(N1))) {
      const holdsIt = (await nodes.storeOf(N1).get(key)) !== undefined;
      expect(holdsIt).toBe(replicas(RING_5, key).includes(N1));
      if (holdsIt) continue;
      const [handedFrom, handedOffUnder] = replicas(RING_4, key).includes(N1) ? [RING_4, RING_5] : [RING_3, RING_4];
      const gaining = replicas(handedOffUnder, key).filter((url) => !replicas(handedFrom, key).includes(url));
      expect(gaining.length).toBeGreaterThan(0);
      for (const url of gaining) expect(await nodes.storeOf(url).get(key)).toBeDefined();
    }
  });

  test("settle resolves at once when the data is placed for the current ring", async () => {
    using nodes = await buildNodes(RING_3);
    await nodes.rebalancer(N1).settle();
    nodes.rebalancer(N1).ringChanged(RING_3);
    await nodes.rebalancer(N1).settle();
    expect(nodes.storeOf(N1).scans).toBe(0);
  });

  test("a record written again meanwhile at a newer version is not dropped with the old one", async () => {
    using nodes = await buildNodes(RING_3);
    const key = KEYS.find((k, i) => !recordOf(k, i).tombstone && replicas(RING_3, k).includes(N1) && !replicas(RING_4, k).includes(N1))!;
    const index = KEYS.indexOf(key);
    let open: () => void = () => {};
    nodes.hold(new Promise<void>((resolve) => (open = resolve)), (records) => records.some((r) => r.key === key));
    nodes.rebalancer(N1).ringChanged(RING_4);
    await until("the pass is pushing the key", () => nodes.held.count > 0);
    const newer = { ...recordOf(key, index), value: "newer", version: { wallMs: START_MS + 10_000, counter: 0, node: N2 } };
    await nodes.storeOf(N1).put(newer);
    nodes.hold(undefined);
    open();
    await nodes.rebalancer(N1).settle();
    expect(await nodes.storeOf(N1).get(key)).toEqual(newer);
    for (const url of replicas(RING_4, key)) expect((await nodes.storeOf(url).get(key))?.value).toBe(`value of ${key}`);
  });

  test("a pass whose store fails is reported, not thrown, and a later retry places the data", async () => {
    jest.useFakeTimers();
    using nodes = await buildNodes(RING_3);
    nodes.storeOf(N1).failScans = 1;
    nodes.rebalancer(N1).ringChanged(RING_4);
    await until("the failure is reported", () => nodes.errors.length === 1);
    expect(nodes.errors[0]).toBeInstanceOf(StoreError);
    expect(nodes.rebalancer(N1).progress.running).toBe(false);
    jest.advanceTimersByTime(REBALANCE_RETRY_MS);
    await until("the retry finished", () => (nodes.reports.get(N1)?.length ?? 0) === 1);
    for (const key of KEYS.filter((k) => replicas(RING_3, k).includes(N1))) {
      expect((await nodes.storeOf(N1).get(key)) !== undefined).toBe(replicas(RING_4, key).includes(N1));
    }
  });
});

describe("a target that is down", () => {
  test("settle(unreachable) ends once the last pass missed only targets said to be down; otherwise it retries until they answer", async () => {
    using nodes = await buildNodes(RING_3);
    nodes.failing.add(N4);
    const rebalancer = nodes.rebalancer(N1);
    rebalancer.ringChanged(RING_4);
    // A node leaving hands off what it can and goes: N4 gets its copies from anti-entropy once it is back.
    await rebalancer.settle((target) => target === N4);
    expect(rebalancer.progress.pending).toBe(true);
    expect(rebalancer.progress.last?.failedTargets).toEqual([N4]);
    let settled = false;
    const settling = rebalancer.settle((target) => target === N2).then(() => (settled = true));
    await Bun.sleep(REBALANCE_RETRY_MS / 2);
    expect(settled).toBe(false);
    nodes.failing.delete(N4);
    await settling;
    expect(rebalancer.progress.pending).toBe(false);
  });
});

describe("the hand-off's progress", () => {
  test("counts the records every target of a batch holds, mid-pass too; a target that fails adds nothing however often the pass is tried", async () => {
    using nodes = await buildNodes(RING_3);
    nodes.failing.add(N4);
    const rebalancer = nodes.rebalancer(N1);
    rebalancer.ringChanged(RING_4);
    // Every range N1 sends on a join goes to N4 alone: the first pass and the next reach no one.
    const down = (target: string) => target === N4;
    await rebalancer.settle(down);
    await rebalancer.settle(down);
    expect(nodes.reports.get(N1)?.length).toBe(2);
    expect(rebalancer.progress.delivered).toBe(0);
    let release!: () => void;
    nodes.hold(new Promise<void>((resolve) => (release = resolve)));
    nodes.failing.delete(N4);
    const settled = rebalancer.settle();
    await until("a push waits at the gate", () => nodes.held.count > 0);
    expect(rebalancer.progress.delivered).toBe(0);
    release();
    await settled;
    const sent = [...(nodes.received.get(N4)?.values() ?? [])].reduce((sum, times) => sum + times, 0);
    expect(sent).toBeGreaterThan(0);
    // One target per range here: each record N4 was sent once in the last pass is one delivered.
    expect(rebalancer.progress.delivered).toBe(nodes.reports.get(N1)!.at(-1)!.streamed);
    expect(rebalancer.progress.delivered).toBe(sent);
  });
});

describe("a node that leaves, on a store that cannot drop", () => {
  test("a range given up counts only as it is dropped: a failing discard adds nothing to the progress, however often the pass runs", async () => {
    using nodes = await buildNodes(RING_3);
    nodes.storeOf(N1).discard = async () => {
      throw new StoreError("io", "disk I/O error");
    };
    const rebalancer = nodes.rebalancer(N1);
    rebalancer.ringChanged(buildRing([N2, N3], VNODES));
    for (let waited = 0; nodes.errors.length < 2 && waited < 5 * REBALANCE_RETRY_MS; waited += 50) await Bun.sleep(50);
    expect(nodes.errors.length).toBeGreaterThanOrEqual(2);
    // It did send (twice over): its targets hold the records, but nothing left this node.
    expect(nodes.received.size).toBeGreaterThan(0);
    expect(rebalancer.progress.delivered).toBe(0);
  });
});

describe("a node that leaves", () => {
  test("drain sends what reached it after its range was read (a newer version here), and is true once nothing is left", async () => {
    using nodes = await buildNodes(RING_3);
    const rebalancer = nodes.rebalancer(N1);
    const left = buildRing([N2, N3], VNODES);
    let release!: () => void;
    let first: StoredRecord | undefined;
    nodes.hold(
      new Promise<void>((resolve) => (release = resolve)),
      (records) => (first ??= records.find((record) => !record.tombstone)) !== undefined && records.includes(first),
    );
    rebalancer.ringChanged(left);
    await until("a batch waits at the gate", () => nodes.held.count > 0);
    // A write that reached N1 while the batch holding the key's older version was on its way.
    const newer = { ...first!, value: "written during the leave", version: { ...first!.version, wallMs: first!.version.wallMs + 60_000 } };
    await nodes.storeOf(N1).put(newer);
    release();
    await rebalancer.settle();
    const onReplicas = async () => Promise.all(replicas(left, newer.key).map(async (url) => (await nodes.storeOf(url).get(newer.key))?.value));
    // The pass sent the version it read, and could not drop the newer one: it is still only here.
    expect(await onReplicas()).not.toContain(newer.value);
    expect((await nodes.storeOf(N1).get(newer.key))?.value).toBe(newer.value);

    expect(await rebalancer.drain()).toBe(true);
    expect(await onReplicas()).toEqual([newer.value, newer.value]);
    expect(await nodes.storeOf(N1).scan(undefined, 10)).toEqual([]);
  });

  test("drain is false once a pass missed only targets said to be down, and leaves their records here", async () => {
    using nodes = await buildNodes(RING_3);
    const rebalancer = nodes.rebalancer(N1);
    nodes.failing.add(N3);
    rebalancer.ringChanged(buildRing([N2, N3], VNODES));
    expect(await rebalancer.drain((target) => target === N3)).toBe(false);
    expect((await nodes.storeOf(N1).scan(undefined, 1)).length).toBe(1);
  });
});

describe("before the node has joined", () => {
  test("rings learnt while joining are taken as placed, and the first change after the join is streamed", async () => {
    using nodes = await buildNodes(RING_3);
    let joined = false;
    const self = N1;
    const rebalancer = new Rebalancer(
      {
        self,
        store: nodes.storeOf(self),
        arcs: (ring) => arcsOf(ring, RF),
        push: async (target, records) => {
          for (const record of records) await nodes.storeOf(target).put(record);
        },
        joined: () => joined,
      },
      buildRing([self], VNODES),
    );
    const before = nodes.storeOf(self).scans;
    // A restart: the node learns its peers one by one; the data is already where RING_3 puts it.
    rebalancer.ringChanged(buildRing([self, N2], VNODES));
    joined = true;
    rebalancer.ringChanged(RING_3);
    await rebalancer.settle();
    expect(nodes.storeOf(self).scans).toBe(before);
    expect(rebalancer.progress).toMatchObject({ passes: 0, pending: false });
    // Joined: a new member's ranges are streamed as usual.
    rebalancer.ringChanged(RING_4);
    await rebalancer.settle();
    expect(rebalancer.progress.passes).toBe(1);
    expect(nodes.storeOf(self).scans).toBeGreaterThan(before);
    rebalancer.stop();
  });
});

describe("a range this node keeps and sends to a new replica", () => {
  test("goes out only in the segments whose digests differ on the target, and not at all when none does", async () => {
    const one = buildRing([N1], VNODES);
    const two = buildRing([N1, N2], VNODES);
    const run = async (differing: readonly number[] | undefined) => {
      const store = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: () => START_MS });
      for (const record of RECORDS) await store.put(record);
      const sent: string[] = [];
      const rebalancer = new Rebalancer(
        {
          self: N1,
          store,
          arcs: (ring) => arcsOf(ring, RF),
          push: async (_target, records) => void sent.push(...records.map((r) => r.key)),
          differing: async () => differing,
        },
        one,
      );
      rebalancer.ringChanged(two);
      await rebalancer.settle();
      rebalancer.stop();
      return sent.sort();
    };
    // Unknown: everything N2 gains (at RF=2 on two nodes, every key).
    expect(await run(undefined)).toEqual([...KEYS].sort());
    // A peer that held the data all along: nothing.
    expect(await run([])).toEqual([]);
    // Two keys' segments differ: those keys, and any other key sharing their segments.
    const wanted = [segmentOf(KEYS[3]!), segmentOf(KEYS[200]!)].sort((a, b) => a - b);
    expect(await run(wanted)).toEqual(KEYS.filter((key) => wanted.includes(segmentOf(key))).sort());
  });
});

describe("a range this node gives up when no replica gains it (a leave below the replication factor)", () => {
  test("goes to each remaining replica only in the segments its digests lack, over the ranges given up, and is dropped here once all hold it", async () => {
    const two = buildRing([N1, N2], VNODES);
    const one = buildRing([N2], VNODES);
    const run = async (differing: readonly number[] | undefined) => {
      const store = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: () => START_MS });
      for (const record of RECORDS) await store.put(record);
      const sent: string[] = [];
      const asked: (readonly RingRange[] | undefined)[] = [];
      const rebalancer = new Rebalancer(
        {
          self: N1,
          store,
          arcs: (ring) => arcsOf(ring, RF),
          push: async (_target, records) => void sent.push(...records.map((r) => r.key)),
          differing: async (_target, ranges) => {
            asked.push(ranges);
            return differing;
          },
        },
        two,
      );
      // N1 leaves: at RF=2 on two nodes N2 held every key all along, and gains nothing.
      rebalancer.ringChanged(one);
      await rebalancer.settle();
      rebalancer.stop();
      return { sent: sent.sort(), asked, left: (await store.scanRing({ lo: 0n, hi: 2n ** 64n - 1n }, undefined, 1000)).length };
    };
    // Unknown: everything, as before digests were asked.
    const unknown = await run(undefined);
    expect(unknown.sent).toEqual([...KEYS].sort());
    expect(unknown.left).toBe(0);
    // Digests match everywhere: nothing crosses the wire, and every record is still dropped here (N2 holds it).
    const same = await run([]);
    expect(same.sent).toEqual([]);
    expect(same.left).toBe(0);
    // Asked once, about the ranges given up (the whole ring, merged), not the ranges the new ring shares (none).
    expect(same.asked).toHaveLength(1);
    expect(same.asked[0]).toEqual([{ lo: 0n, hi: 2n ** 64n - 1n }]);
    // Two keys' segments differ: those keys, and any other key sharing their segments.
    const wanted = [segmentOf(KEYS[3]!), segmentOf(KEYS[200]!)].sort((a, b) => a - b);
    const some = await run(wanted);
    expect(some.sent).toEqual(KEYS.filter((key) => wanted.includes(segmentOf(key))).sort());
    expect(some.left).toBe(0);
  });
});

describe("a range given up to replicas that held it, while writes still reach this node", () => {
  test("a record written here after the digests were compared goes out, though its segment matched then", async () => {
    const two = buildRing([N1, N2], VNODES);
    const one = buildRing([N2], VNODES);
    const store = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: () => START_MS });
    for (const record of RECORDS) await store.put(record);
    const late: StoredRecord = { ...RECORDS[7]!, value: "written during the leave", version: { wallMs: START_MS + 10_000, counter: 0, node: N1 } };
    const sent: StoredRecord[] = [];
    const rebalancer = new Rebalancer(
      {
        self: N1,
        store,
        arcs: (ring) => arcsOf(ring, RF),
        push: async (_target, records) => void sent.push(...records),
        // N2's digests matched everywhere when compared; then a write reached this node.
        differing: async () => {
          await store.put(late);
          return [];
        },
      },
      two,
    );
    rebalancer.ringChanged(one);
    await rebalancer.settle();
    rebalancer.stop();
    // The late version went to N2 before this node dropped it; keys whose segments did not change stayed here only as long as N2 held them.
    expect(sent.find((record) => record.key === late.key)).toEqual(late);
    expect(sent.every((record) => segmentOf(record.key) === segmentOf(late.key))).toBe(true);
    expect(await store.scanRing({ lo: 0n, hi: 2n ** 64n - 1n }, undefined, 1000)).toEqual([]);
  });
});
