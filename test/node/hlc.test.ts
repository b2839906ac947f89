// The hybrid logical clock: versions always move forward on this node, past everything it has seen, and name it.
import { describe, expect, test } from "bun:test";
import { HLC_COUNTER_MAX, HybridClock } from "../../src/node/hlc.ts";
import { compareVersions, type Version } from "../../src/store/record.ts";

const SELF = "http://127.0.0.1:8484";
const OTHER = "http://127.0.0.2:8484";

/** A wall clock that returns the given readings in turn and then keeps the last one. */
function scripted(readings: readonly number[]): () => number {
  let i = 0;
  return () => readings[Math.min(i++, readings.length - 1)] ?? 0;
}

function ticks(clock: HybridClock, count: number): Version[] {
  return Array.from({ length: count }, () => clock.tick());
}

function expectStrictlyIncreasing(versions: readonly Version[]): void {
  for (let i = 1; i < versions.length; i++) expect(compareVersions(versions[i - 1]!, versions[i]!)).toBe(-1);
}

describe("HybridClock", () => {
  test.each([
    ["standing still", [1000, 1000, 1000, 1000, 1000]],
    ["going backwards", [1000, 999, 500, 0, -5]],
    ["jumping back after moving forward", [1000, 1001, 1002, 10, 11, 1002, 1003]],
    ["moving forward", [1, 2, 3, 4, 5]],
  ])("tick is strictly increasing with the wall clock %s", (_name, readings) => {
    expectStrictlyIncreasing(ticks(new HybridClock(SELF, scripted(readings)), readings.length + 3));
  });

  test("tick follows the wall clock while it moves forward", () => {
    const clock = new HybridClock(SELF, scripted([1000, 1000, 2000]));
    expect(ticks(clock, 3)).toEqual([
      { wallMs: 1000, counter: 0, node: SELF },
      { wallMs: 1000, counter: 1, node: SELF },
      { wallMs: 2000, counter: 0, node: SELF },
    ]);
  });

  test.each([
    ["a later wall time", { wallMs: 5000, counter: 0, node: OTHER }],
    ["a later wall time and a high counter", { wallMs: 5000, counter: 41, node: OTHER }],
    ["the same wall time and a higher counter", { wallMs: 1000, counter: 7, node: OTHER }],
    ["the same wall time and counter from a higher node URL", { wallMs: 1000, counter: 0, node: "http://127.0.0.9:1" }],
  ])("after observing a remote version with %s, the next tick is newer than it", (_name, remote) => {
    const clock = new HybridClock(SELF, () => 1000);
    clock.tick();
    clock.observe(remote);
    const next = clock.tick();
    expect(compareVersions(next, remote)).toBe(1);
    expect(next.node).toBe(SELF);
  });

  test("observing an older remote version does not move the clock back", () => {
    const clock = new HybridClock(SELF, scripted([1000, 1000, 1000]));
    const before = clock.tick();
    clock.observe({ wallMs: 10, counter: 99, node: OTHER });
    expect(compareVersions(clock.tick(), before)).toBe(1);
  });

  test("once the wall clock passes an observed version, ticks follow the wall clock again", () => {
    const clock = new HybridClock(SELF, scripted([1000, 6000]));
    clock.observe({ wallMs: 5000, counter: 3, node: OTHER });
    expect(clock.tick()).toEqual({ wallMs: 5000, counter: 4, node: SELF });
    expect(clock.tick()).toEqual({ wallMs: 6000, counter: 0, node: SELF });
  });

  test("every version carries this node's URL, also right after observing another node", () => {
    const clock = new HybridClock(SELF, scripted([1, 1, 0]));
    const versions = [clock.tick()];
    clock.observe({ wallMs: 100, counter: 0, node: OTHER });
    versions.push(...ticks(clock, 3));
    expect(versions.map((v) => v.node)).toEqual([SELF, SELF, SELF, SELF]);
  });

  test("two clocks on different nodes never issue equal versions for the same wall time", () => {
    const a = new HybridClock("http://127.0.0.1:1", () => 1000);
    const b = new HybridClock("http://127.0.0.2:1", () => 1000);
    expect(compareVersions(a.tick(), b.tick())).not.toBe(0);
  });
});

describe("HybridClock bounds", () => {
  test("a spent counter rolls the wall part forward instead of growing past its ceiling", () => {
    const clock = new HybridClock(SELF, () => 1000);
    clock.observe({ wallMs: 1000, counter: HLC_COUNTER_MAX - 1, node: OTHER });
    expect(clock.tick()).toEqual({ wallMs: 1000, counter: HLC_COUNTER_MAX, node: SELF });
    expect(clock.tick()).toEqual({ wallMs: 1001, counter: 0, node: SELF });
    expect(clock.tick()).toEqual({ wallMs: 1001, counter: 1, node: SELF });
  });

  test("after a step ahead past the bound and back, ticks go on from the last version within it; while the step lasts they only move forward", () => {
    let wallMs = 1000;
    // The bound as a node's FutureBound gives it: its peers' time (here the real one) plus the skew.
    let realMs = 1000;
    const clock = new HybridClock(SELF, () => wallMs, () => realMs + 500);
    expect(clock.tick()).toEqual({ wallMs: 1000, counter: 0, node: SELF });
    clock.observe({ wallMs: 1200, counter: 3, node: OTHER });
    wallMs = 3_601_000;
    // During the step (the wall clock beyond the bound), versions stay strictly increasing.
    const during = ticks(clock, 3);
    expectStrictlyIncreasing(during);
    expect(during[0]).toEqual({ wallMs: 3_601_000, counter: 0, node: SELF });
    // A version within the bound seen during the step is remembered, though older than the step's.
    clock.observe({ wallMs: 1300, counter: 0, node: OTHER });
    wallMs = 1010;
    realMs = 1010;
    expect(clock.tick()).toEqual({ wallMs: 1300, counter: 1, node: SELF });
    wallMs = 1400;
    realMs = 1400;
    expect(clock.tick()).toEqual({ wallMs: 1400, counter: 0, node: SELF });
  });

  test("the bound on what it issues may be tighter than the one on what it takes (a step read from one peer): a step's versions are not gone on from", () => {
    let wallMs = 1000;
    let realMs = 1000;
    // Takes up to its own clock + the skew (one peer's word refuses nothing), issues by that peer's clock.
    const clock = new HybridClock(SELF, () => wallMs, () => wallMs + 500, () => realMs + 1000);
    const before = clock.tick();
    wallMs = 31_000;
    expect(clock.tick()).toEqual({ wallMs: 31_000, counter: 0, node: SELF });
    expect(clock.observe({ wallMs: 20_000, counter: 0, node: OTHER })).toBe(true);
    wallMs = 1500;
    realMs = 1500;
    const after = clock.tick();
    expect(after).toEqual({ wallMs: 20_000, counter: 1, node: SELF });
    expectStrictlyIncreasing([before, after]);
  });

  test("a step back past the bound with no step ahead before it goes on past the versions already issued, as ever", () => {
    let wallMs = 10_000;
    const clock = new HybridClock(SELF, () => wallMs, () => wallMs + 500);
    const before = clock.tick();
    wallMs = 9_000;
    const after = ticks(clock, 5);
    expectStrictlyIncreasing([before, ...after]);
    expect(after[0]).toEqual({ wallMs: 10_000, counter: 1, node: SELF });
  });

  test("a bound that shrinks below a version seen within it (a noisy estimate of this clock ahead) never takes the clock back", () => {
    let limitMs = 10_500;
    const clock = new HybridClock(SELF, () => 10_000, () => limitMs);
    clock.observe({ wallMs: 10_400, counter: 2, node: OTHER });
    limitMs = 10_300;
    const after = ticks(clock, 4);
    expectStrictlyIncreasing(after);
    expect(after[0]).toEqual({ wallMs: 10_400, counter: 3, node: SELF });
  });

  test.each([
    ["a wall time beyond the skew bound", { wallMs: 1501, counter: 0, node: OTHER }],
    ["the largest safe wall time and counter", { wallMs: Number.MAX_SAFE_INTEGER, counter: Number.MAX_SAFE_INTEGER, node: OTHER }],
    ["a counter past the ceiling", { wallMs: 1000, counter: HLC_COUNTER_MAX + 1, node: OTHER }],
  ])("never observes %s, and says so", (_name, forged) => {
    const clock = new HybridClock(SELF, () => 1000, () => 1500);
    expect(clock.observe(forged)).toBe(false);
    expect(clock.tick()).toEqual({ wallMs: 1000, counter: 0, node: SELF });
  });

  test("observes a version just inside the skew bound", () => {
    const clock = new HybridClock(SELF, () => 1000, () => 1500);
    expect(clock.observe({ wallMs: 1500, counter: 3, node: OTHER })).toBe(true);
    expect(clock.tick()).toEqual({ wallMs: 1500, counter: 4, node: SELF });
  });
});

describe("HybridClock.tickAfter", () => {
  test("is a plain tick when the floor is older, and just past a floor beyond the bound without moving the clock", () => {
    const clock = new HybridClock(SELF, () => 1000, () => 1500);
    expect(clock.tickAfter({ wallMs: 10, counter: 0, node: OTHER })).toEqual({ wallMs: 1000, counter: 0, node: SELF });
    expect(clock.tickAfter({ wallMs: 9000, counter: 4, node: OTHER })).toEqual({ wallMs: 9000, counter: 5, node: SELF });
    expect(clock.tickAfter({ wallMs: 9000, counter: HLC_COUNTER_MAX, node: OTHER })).toEqual({ wallMs: 9001, counter: 0, node: SELF });
    // Each tickAfter ticked the clock once, and no floor moved it.
    expect(clock.tick()).toEqual({ wallMs: 1000, counter: 3, node: SELF });
  });
});
