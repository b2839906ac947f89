// The one test clock: a wall clock that moves only when a test says so, from a fixed start.

/** 2023-11-14T22:13:20Z: a fixed start, so versions and expiries do not depend on when the test runs. */
export const START_MS = 1_700_000_000_000;

export interface TestClock {
  readonly now: () => number;
  advance(ms: number): void;
}

export class ManualClock implements TestClock {
  constructor(public nowMs = START_MS) {}
  readonly now = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export function testClock(startMs = START_MS): TestClock {
  return new ManualClock(startMs);
}
