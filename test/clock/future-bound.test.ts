// The bound on time from the future, and how a clock known to run ahead of its peers' judges by theirs.
import { expect, test } from "bun:test";
import { FutureBound, type FutureKind } from "../../src/clock/future-bound.ts";

const SKEW_MS = 500;
const NOW_MS = 1_764_000_000_000;
const HOUR_MS = 3_600_000;

function bound(aheadMs: number) {
  const refused: [FutureKind, number][] = [];
  const future = new FutureBound({ maxSkewMs: SKEW_MS, clock: () => NOW_MS, clockAheadMs: () => aheadMs, onRefused: (kind, ahead) => refused.push([kind, ahead]) });
  return { future, refused };
}

test("a wall time up to the skew past this clock is taken; one past it is refused and reported", () => {
  const { future, refused } = bound(0);
  expect(future.accepts("version", NOW_MS + SKEW_MS)).toBe(true);
  expect(future.accepts("version", NOW_MS + SKEW_MS + 1)).toBe(false);
  expect(refused).toEqual([["version", SKEW_MS + 1]]);
  expect(future.limitMs()).toBe(NOW_MS + SKEW_MS);
});

test("a clock known to run an hour ahead of its peers' judges by theirs: another clock an hour ahead is refused, the peers' time taken", () => {
  // This node's clock reads NOW_MS, an hour ahead: its peers' time is NOW_MS - HOUR_MS.
  const { future, refused } = bound(HOUR_MS);
  expect(future.accepts("version", NOW_MS)).toBe(false);
  expect(future.accepts("heartbeat", NOW_MS - HOUR_MS + 2 * SKEW_MS + 1)).toBe(false);
  // The skew's slack stays: the peers' time plus up to twice the skew is taken.
  expect(future.accepts("version", NOW_MS - HOUR_MS)).toBe(true);
  expect(future.accepts("version", NOW_MS - HOUR_MS + 2 * SKEW_MS)).toBe(true);
  expect(future.limitMs()).toBe(NOW_MS - HOUR_MS + 2 * SKEW_MS);
  expect(refused.map(([kind]) => kind)).toEqual(["version", "heartbeat"]);
});

test("an estimate of being ahead by no more than the skew (a busy peer's noise), or of being behind, changes nothing", () => {
  for (const aheadMs of [SKEW_MS, 300, 0, -HOUR_MS]) {
    const { future } = bound(aheadMs);
    expect(future.accepts("version", NOW_MS + SKEW_MS)).toBe(true);
    expect(future.accepts("version", NOW_MS + SKEW_MS + 1)).toBe(false);
  }
});
