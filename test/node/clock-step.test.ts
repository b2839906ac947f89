// A key this node wrote before its wall clock stepped back lies beyond the skew bound of its own clock: its next
// writes must still win at once (versioned just past it), while the clock itself stays bounded.
import { expect, test } from "bun:test";
import { FutureBound } from "../../src/clock/future-bound.ts";
import { MemberTable } from "../../src/membership/member-table.ts";
import { HintStore } from "../../src/node/hint-store.ts";
import { HybridClock } from "../../src/node/hlc.ts";
import { LimeNode } from "../../src/node/node.ts";
import { Replication } from "../../src/node/replication.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import { NODE_URL, START_MS, testClock, VALUE_BYTES_MAX } from "../support/app.ts";
import { FakeReplicas } from "../support/fake-replicas.ts";

const SKEW_MS = 500;
/** How far the wall clock stepped back between the old write and now: past the skew bound. */
const STEP_BACK_MS = 2_000;

test("after the wall clock stepped back past the skew, SET and DEL of a key written before still win, and the clock stays bounded", async () => {
  const clock = testClock();
  const store = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: clock.now });
  const ahead = { wallMs: START_MS + STEP_BACK_MS, counter: 7, node: NODE_URL };
  await store.put({ key: "k", value: "written before the step", version: ahead, tombstone: false, expiresAtMs: undefined });
  const future = new FutureBound({ maxSkewMs: SKEW_MS, clock: clock.now });
  const hlc = new HybridClock(NODE_URL, clock.now, () => future.limitMs());
  const node = new LimeNode({
    nodeUrl: NODE_URL,
    store,
    members: new MemberTable(NODE_URL, START_MS, clock.now, { staleAfterMs: 3000, deadAfterMs: 5000 }, { future }),
    replication: new Replication({ self: NODE_URL, store, peers: new FakeReplicas([], clock.now), hints: new HintStore(":memory:", clock.now), timeoutMs: 1000, future }),
    vnodesPerNode: 16,
    clock: hlc,
    wallClock: clock.now,
    valueBytesMax: VALUE_BYTES_MAX,
    replicationFactor: 1,
    writeQuorum: 0,
    readQuorum: 0,
  });

  await node.set("k", "after the step", undefined);
  expect(await store.get("k")).toMatchObject({ value: "after the step", version: { wallMs: ahead.wallMs, counter: ahead.counter + 1, node: NODE_URL } });
  expect(await node.del("k")).toBe(true);
  expect((await store.get("k"))?.tombstone).toBe(true);
  // Other keys are versioned by the clock, which never moved to the old key's wall time.
  await node.set("other", "v", undefined);
  expect((await store.get("other"))?.version.wallMs).toBe(START_MS);
});
