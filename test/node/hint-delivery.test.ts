// Hinted handoff: hints go, oldest first, only to active replicas, are removed once delivered, and kept when a push fails.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { HINTS_PER_DELIVERY, HintDelivery } from "../../src/node/hint-delivery.ts";
import { NodeError } from "../../src/node/errors.ts";
import { HintStore } from "../../src/node/hint-store.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { START_MS, VALUE_BYTES_MAX } from "../support/app.ts";
import { tempDir } from "../support/temp-dir.ts";

const BACK = "http://127.0.3.1:8484";
const STILL_DOWN = "http://127.0.3.2:8484";
/** A target no member table holds: forgotten after a long death, or never a member. */
const FORGOTTEN = "http://127.0.0.1:9";
/** How long a target may stay unknown before its hints go; the test's clock passes it in one step. */
const FORGET_AFTER_MS = 5_000;

function record(key: string, value: string, wallMs: number): StoredRecord {
  return { key, value, version: { wallMs, counter: 0, node: "http://127.0.3.9:8484" }, tombstone: false, expiresAtMs: undefined };
}

/** Replicas as stores the push writes into (last write wins), able to fail, and a log of every push. */
async function setup() {
  const dir = await tempDir();
  const hints = new HintStore(join(dir.path, "hints.sqlite"), () => START_MS);
  const stores = new Map([BACK, STILL_DOWN].map((url) => [url, new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: () => START_MS })]));
  const pushes: { target: string; keys: string[] }[] = [];
  const active = new Set([BACK]);
  const known = new Set([BACK, STILL_DOWN]);
  const clock = { nowMs: START_MS, peers: true };
  let failing: "before" | "after" | undefined;
  let gate: Promise<void> | undefined;
  const refusedKeys = new Set<string>();
  const delivery = new HintDelivery({
    hints,
    isActive: (url) => active.has(url),
    isKnown: (url) => known.has(url),
    hasPeers: () => clock.peers,
    forgetAfterMs: FORGET_AFTER_MS,
    clock: () => clock.nowMs,
    push: async (target, records) => {
      pushes.push({ target, keys: records.map((r) => r.key) });
      await gate;
      if (failing === "before") throw new Error("connection refused");
      // A replica whose limits differ refuses some records outright, whenever they are sent.
      if (records.some((r) => refusedKeys.has(r.key))) throw new NodeError("too_large", "value is over the limit of 16 UTF-8 bytes");
      for (const r of records) await stores.get(target)!.put(r);
      // The replica stored them, but its answer was lost: the hints must be delivered again, harmlessly.
      if (failing === "after") throw new Error("timed out waiting for the answer");
    },
  });
  return {
    hints,
    delivery,
    pushes,
    active,
    known,
    clock,
    store: (url: string) => stores.get(url)!,
    failWith: (when: "before" | "after" | undefined) => (failing = when),
    refuse: (key: string) => refusedKeys.add(key),
    hold: (until: Promise<void>) => (gate = until),
    async [Symbol.asyncDispose]() {
      delivery.stop();
      hints.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

describe("HintDelivery", () => {
  test("delivers hints only to active members, oldest first, and removes those it delivered", async () => {
    await using s = await setup();
    s.hints.add(BACK, record("b", "1", START_MS + 1));
    s.hints.add(STILL_DOWN, record("x", "1", START_MS + 1));
    s.hints.add(BACK, record("a", "2", START_MS + 2));
    s.hints.add(BACK, record("b", "3", START_MS + 3));
    await s.delivery.round();
    expect(s.pushes).toEqual([{ target: BACK, keys: ["b", "a", "b"] }]);
    expect((await s.store(BACK).get("b"))?.value).toBe("3");
    expect((await s.store(BACK).get("a"))?.value).toBe("2");
    expect(s.hints.backlog()).toEqual(new Map([[STILL_DOWN, 1]]));
    expect(s.delivery.deliveredCount).toBe(3);
    expect(await s.store(STILL_DOWN).count()).toBe(0);
  });

  test("a hint the replica refuses outright is dropped, and the hints behind it still arrive", async () => {
    await using s = await setup();
    s.hints.add(BACK, record("a", "1", START_MS + 1));
    s.hints.add(BACK, record("too-big", "1", START_MS + 2));
    s.hints.add(BACK, record("c", "1", START_MS + 3));
    s.refuse("too-big");
    await s.delivery.round();
    expect((await s.store(BACK).get("a"))?.value).toBe("1");
    expect((await s.store(BACK).get("c"))?.value).toBe("1");
    expect(await s.store(BACK).get("too-big")).toBeUndefined();
    expect(s.hints.count()).toBe(0);
    expect(s.delivery.deliveredCount).toBe(2);
    expect(s.delivery.refusedCount).toBe(1);
    expect(s.hints.droppedCount("refused")).toBe(1);
  });

  test("hints for a target missing from the member table for the forget time are dropped and counted; known ones stay", async () => {
    await using s = await setup();
    s.hints.add(FORGOTTEN, record("a", "1", START_MS));
    s.hints.add(FORGOTTEN, record("b", "1", START_MS));
    s.hints.add(STILL_DOWN, record("x", "1", START_MS));
    await s.delivery.round();
    s.clock.nowMs += FORGET_AFTER_MS - 1;
    await s.delivery.round();
    expect(s.hints.backlog()).toEqual(new Map([[FORGOTTEN, 2], [STILL_DOWN, 1]]));
    s.clock.nowMs += 1;
    await s.delivery.round();
    expect(s.hints.backlog()).toEqual(new Map([[STILL_DOWN, 1]]));
    expect(s.hints.droppedCount("forgotten")).toBe(2);
    expect(s.pushes).toEqual([]);
  });

  test("a target that is back in the member table starts its forget time again", async () => {
    await using s = await setup();
    s.hints.add(FORGOTTEN, record("a", "1", START_MS));
    await s.delivery.round();
    s.clock.nowMs += FORGET_AFTER_MS - 1;
    s.known.add(FORGOTTEN);
    await s.delivery.round();
    s.known.delete(FORGOTTEN);
    s.clock.nowMs += FORGET_AFTER_MS - 1;
    await s.delivery.round();
    expect(s.hints.count()).toBe(1);
    s.clock.nowMs += 1;
    await s.delivery.round();
    expect(s.hints.count()).toBe(1);
    s.clock.nowMs += FORGET_AFTER_MS;
    await s.delivery.round();
    expect(s.hints.count()).toBe(0);
  });

  test("a node that knows no other member yet judges no target forgotten, however long it waits", async () => {
    await using s = await setup();
    s.clock.peers = false;
    s.hints.add(FORGOTTEN, record("a", "1", START_MS));
    await s.delivery.round();
    s.clock.nowMs += 10 * FORGET_AFTER_MS;
    await s.delivery.round();
    expect(s.hints.count()).toBe(1);
    // The wait starts when it has peers, not when it started.
    s.clock.peers = true;
    await s.delivery.round();
    expect(s.hints.count()).toBe(1);
    s.clock.nowMs += FORGET_AFTER_MS;
    await s.delivery.round();
    expect(s.hints.count()).toBe(0);
  });

  test("a second round finds nothing more to deliver", async () => {
    await using s = await setup();
    s.hints.add(BACK, record("a", "1", START_MS));
    await s.delivery.round();
    await s.delivery.round();
    expect(s.pushes).toHaveLength(1);
    expect(s.delivery.deliveredCount).toBe(1);
  });

  test("keeps the hints when the push fails, and delivers them in a later round", async () => {
    await using s = await setup();
    s.hints.add(BACK, record("a", "1", START_MS));
    s.hints.add(BACK, record("b", "1", START_MS));
    s.failWith("before");
    await s.delivery.round();
    expect(s.hints.batch(BACK, 10).map((hint) => hint.record.key)).toEqual(["a", "b"]);
    expect(s.delivery.deliveredCount).toBe(0);
    s.failWith(undefined);
    await s.delivery.round();
    expect(s.hints.count()).toBe(0);
    expect((await s.store(BACK).get("b"))?.value).toBe("1");
  });

  test("delivering the same hints twice, after an answer was lost, leaves the replica as one delivery would", async () => {
    await using s = await setup();
    s.hints.add(BACK, record("a", "old", START_MS + 1));
    s.hints.add(BACK, record("a", "new", START_MS + 2));
    s.failWith("after");
    await s.delivery.round();
    expect(s.hints.count()).toBe(2);
    const once = await s.store(BACK).get("a");
    s.failWith(undefined);
    await s.delivery.round();
    expect(s.hints.count()).toBe(0);
    expect(await s.store(BACK).get("a")).toEqual(once!);
    expect(once?.value).toBe("new");
  });

  test("a member that turns active gets its hints in the next round", async () => {
    await using s = await setup();
    s.hints.add(STILL_DOWN, record("x", "1", START_MS));
    await s.delivery.round();
    expect(s.pushes).toEqual([]);
    s.active.add(STILL_DOWN);
    await s.delivery.round();
    expect(s.pushes).toEqual([{ target: STILL_DOWN, keys: ["x"] }]);
    expect(s.hints.count()).toBe(0);
  });

  test("a long backlog goes in batches of HINTS_PER_DELIVERY, in order, within one round", async () => {
    await using s = await setup();
    const total = 2 * HINTS_PER_DELIVERY + 10;
    const keys = Array.from({ length: total }, (_, i) => `k${String(i).padStart(4, "0")}`);
    for (const key of keys) s.hints.add(BACK, record(key, "v", START_MS));
    await s.delivery.round();
    expect(s.pushes.map((push) => push.keys.length)).toEqual([HINTS_PER_DELIVERY, HINTS_PER_DELIVERY, 10]);
    expect(s.pushes.flatMap((push) => push.keys)).toEqual(keys);
    expect(s.hints.count()).toBe(0);
  });

  test("rounds never overlap: a round asked for while one runs does nothing", async () => {
    await using s = await setup();
    s.hints.add(BACK, record("a", "1", START_MS));
    let open: () => void = () => {};
    s.hold(new Promise<void>((resolve) => (open = resolve)));
    const first = s.delivery.round();
    await s.delivery.round();
    expect(s.pushes).toHaveLength(1);
    open();
    await first;
    expect(s.pushes).toHaveLength(1);
    expect(s.hints.count()).toBe(0);
  });
});
