// The pause watch on its own: a gap between ticks longer than the bound is a pause, and the node refuses to
// coordinate from the moment it runs again until the refresh that the pause started has settled.
import { describe, expect, test } from "bun:test";
import { PauseWatch } from "../../src/node/pause-watch.ts";
import { testClock } from "../support/app.ts";
import { until } from "../support/until.ts";

const PAUSE_AFTER_MS = 3000;

function build() {
  const clock = testClock();
  const refreshes: number[] = [];
  let finish: () => void = () => {};
  const watch = new PauseWatch({
    now: clock.now,
    pauseAfterMs: PAUSE_AFTER_MS,
    refresh: (pausedMs) => {
      refreshes.push(pausedMs);
      return new Promise<void>((resolve) => (finish = resolve));
    },
  });
  watch.start();
  return { clock, watch, refreshes, finish: () => finish() };
}

describe("the pause watch", () => {
  test("gaps up to the bound are no pause", () => {
    const { clock, watch, refreshes } = build();
    try {
      for (let i = 0; i < 5; i++) {
        clock.advance(PAUSE_AFTER_MS);
        watch.tick();
        expect(watch.refusal()).toBeUndefined();
      }
      expect(refreshes).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  test("a request handled before the first tick after a pause sees the gap itself and is refused; the refusal lasts until the refresh settles", async () => {
    const { clock, watch, refreshes, finish } = build();
    try {
      clock.advance(10_000);
      expect(watch.refusal()).toContain("paused for 10000 ms");
      expect(refreshes).toEqual([10_000]);
      // The tick that comes later starts no second refresh, and the node still refuses.
      clock.advance(100);
      watch.tick();
      expect(refreshes).toEqual([10_000]);
      expect(watch.refusal()).toBeDefined();
      finish();
      await until("the refresh settled", () => watch.refusal() === undefined);
    } finally {
      watch.stop();
    }
  });

  test("a refresh that fails still ends the refusal: the node is not shut out for good", async () => {
    const clock = testClock();
    const watch = new PauseWatch({ now: clock.now, pauseAfterMs: PAUSE_AFTER_MS, refresh: () => Promise.reject(new Error("no peer answered")) });
    watch.start();
    try {
      clock.advance(PAUSE_AFTER_MS + 1);
      watch.tick();
      await until("the failed refresh settled", () => watch.refusal() === undefined);
    } finally {
      watch.stop();
    }
  });

  test("a watch never started refuses nothing, however long since it was made", () => {
    const clock = testClock();
    const watch = new PauseWatch({ now: clock.now, pauseAfterMs: PAUSE_AFTER_MS, refresh: async () => undefined });
    clock.advance(60_000);
    expect(watch.refusal()).toBeUndefined();
  });
});
