// ReplicaService.put and the bound on versions from the future: per record in a batch, loudly for a batch of nothing else.
import { arcsOf } from "../../src/ring/arcs.ts";
import { expect, test } from "bun:test";
import { FutureBound } from "../../src/clock/future-bound.ts";
import { NodeError } from "../../src/node/errors.ts";
import { HybridClock } from "../../src/node/hlc.ts";
import { ReplicaService } from "../../src/node/replica-service.ts";
import { buildRing, replicasOf } from "../../src/ring/ring.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { NODE_URL, START_MS, VALUE_BYTES_MAX } from "../support/app.ts";

const SKEW_MS = 500;

function build(leaving = () => false) {
  const refused: number[] = [];
  const store = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: () => START_MS });
  const future = new FutureBound({ maxSkewMs: SKEW_MS, clock: () => START_MS, onRefused: (_kind, aheadMs) => refused.push(aheadMs) });
  const clock = new HybridClock(NODE_URL, () => START_MS, () => future.limitMs());
  const ring = buildRing([NODE_URL], 16);
  const service = new ReplicaService({ self: NODE_URL, store, clock, ring: () => ring, replicasFor: (r, key) => replicasOf(r, key, 1), arcs: (r) => arcsOf(r, 1), valueBytesMax: VALUE_BYTES_MAX, future, leaving });
  return { store, clock, service, refused };
}

function record(key: string, aheadMs: number): StoredRecord {
  return { key, value: "v", version: { wallMs: START_MS + aheadMs, counter: 0, node: "http://127.0.0.1:1" }, tombstone: false, expiresAtMs: undefined };
}

test("in a batch, a record from beyond the skew is not applied and counted, and the others are applied", async () => {
  const { store, clock, service, refused } = build();
  const outcomes = await service.put([record("timely", 100), record("forged", 10 * 365 * 24 * 3600 * 1000), record("also timely", SKEW_MS)]);
  expect(outcomes.map((outcome) => outcome.applied)).toEqual([true, false, true]);
  expect(await store.get("forged")).toBeUndefined();
  expect(await store.get("also timely")).toBeDefined();
  expect(refused).toHaveLength(1);
  // The clock learnt the timely versions only.
  expect(clock.tick().wallMs).toBe(START_MS + SKEW_MS);
});

test("a batch of nothing but records from beyond the skew is refused with clock_skew and stores nothing", async () => {
  const { store, service } = build();
  const error = await service.put([record("a", SKEW_MS + 1), record("b", 60_000)]).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(NodeError);
  expect((error as NodeError).code).toBe("clock_skew");
  expect(await store.count()).toBe(0);
});

test("a leaving node takes no copy and vouches for none: writes and digest comparisons are refused, reads still answered", async () => {
  let leaving = false;
  const { store, service } = build(() => leaving);
  await service.put([record("held", 0)]);
  leaving = true;
  const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => (error instanceof NodeError ? error.code : String(error)));
  expect(await refusal(service.put([record("late", 0)]))).toBe("unavailable");
  const each = await service.putEach([record("late", 0), record("later", 0)]);
  expect(each.map((result) => (result.ok ? "ok" : (result.error as NodeError).code))).toEqual(["unavailable", "unavailable"]);
  const whole = [{ lo: 0n, hi: 2n ** 64n - 1n }];
  expect(await refusal(service.differingGroups(whole, []))).toBe("unavailable");
  expect(await refusal(service.differingSegments(whole, [0], []))).toBe("unavailable");
  expect(await store.count()).toBe(1);
  expect((await service.get("held"))?.value).toBe("v");
});
