// Holds the memory backend to the Backend contract, and its count of live keys to what it costs.
import { describe, expect, test } from "bun:test";
import { MemoryBackend } from "../../src/store/memory.ts";
import { ManualClock } from "../support/clock.ts";
import { backendContract, live, version } from "./conformance.ts";
import { VALUE_BYTES_MAX } from "../support/app.ts";

describe("memory backend", () => {
  backendContract(async (options) => {
    const backend = new MemoryBackend(options);
    return { backend, [Symbol.asyncDispose]: () => backend.close() };
  }, { readsAtOnce: true });

  test("count stays right through many writes over keys with an expiry, however many stale entries they leave", async () => {
    const clock = new ManualClock();
    const backend = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: clock.now });
    const t = clock.nowMs;
    // 5,000 writes over 10 keys, each with a later expiry: the queue is rebuilt from the records on the way.
    for (let i = 0; i < 5_000; i++) await backend.put(live(`k${i % 10}`, "v", version(t + i), t + 10_000 + i));
    await backend.put(live("forever", "v", version(t)));
    expect(await backend.count()).toBe(11);
    clock.advance(10_000 + 4_994);
    // k0..k4 were last written at i = 4990..4994, so they expired; k5..k9 (4995..4999) did not.
    expect(await backend.count()).toBe(6);
    clock.advance(100);
    expect(await backend.count()).toBe(1);
    await backend.put(live("k3", "again", version(t + 10_000_000)));
    expect(await backend.count()).toBe(2);
    await backend.close();
  });
});
