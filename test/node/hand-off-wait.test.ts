// A leaving node waits for its hand-off for as long as records keep reaching their targets, and no longer.
import { describe, expect, test } from "bun:test";
import { LEAVE_PROGRESS_POLL_MS, LEAVE_STALL_MS, waitForHandOff } from "../../src/node/hand-off-wait.ts";
import { testClock } from "../support/clock.ts";

/** A clock that a sleep moves (nothing else runs meanwhile), and a hand-off counter the test moves. */
function handOff() {
  const clock = testClock(0);
  const progress = { delivered: 0 };
  let onSleep: (() => void) | undefined;
  const options = {
    delivered: () => progress.delivered,
    now: clock.now,
    sleep: async (ms: number) => {
      clock.advance(ms);
      onSleep?.();
    },
  };
  return { clock, progress, options, everySleep: (run: () => void) => (onSleep = run) };
}

describe("waitForHandOff", () => {
  test("goes on waiting far past the stall bound while records keep moving, and is true once the hand-off settles", async () => {
    const { clock, progress, options, everySleep } = handOff();
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    everySleep(() => {
      progress.delivered += 1024;
      if (clock.now() >= 10 * LEAVE_STALL_MS) settle();
    });
    expect(await waitForHandOff(settled, options)).toBe(true);
    expect(clock.now()).toBeGreaterThanOrEqual(10 * LEAVE_STALL_MS);
  });

  test("gives up once LEAVE_STALL_MS passes with nothing delivered, counted from the last record that moved", async () => {
    const { clock, progress, options, everySleep } = handOff();
    everySleep(() => {
      if (clock.now() <= 3 * LEAVE_STALL_MS) progress.delivered += 1;
    });
    expect(await waitForHandOff(new Promise<void>(() => {}), options)).toBe(false);
    expect(clock.now()).toBeGreaterThanOrEqual(4 * LEAVE_STALL_MS);
    expect(clock.now()).toBeLessThan(4 * LEAVE_STALL_MS + 2 * LEAVE_PROGRESS_POLL_MS);
  });

  test("a hand-off that never moves is given up on after LEAVE_STALL_MS", async () => {
    const { clock, options } = handOff();
    expect(await waitForHandOff(new Promise<void>(() => {}), options)).toBe(false);
    expect(clock.now()).toBeGreaterThanOrEqual(LEAVE_STALL_MS);
    expect(clock.now()).toBeLessThan(LEAVE_STALL_MS + 2 * LEAVE_PROGRESS_POLL_MS);
  });

  test("a settle that fails is not taken as handed off", async () => {
    const { options } = handOff();
    expect(await waitForHandOff(Promise.reject(new Error("the store could not be read")), options)).toBe(false);
  });

  test("a settle that is already over answers at once", async () => {
    const { clock, options } = handOff();
    expect(await waitForHandOff(Promise.resolve(), options)).toBe(true);
    expect(clock.now()).toBeLessThanOrEqual(LEAVE_PROGRESS_POLL_MS);
  });
});
