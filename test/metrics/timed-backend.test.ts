// The store decorator that times every operation: a success is timed, a failure is timed and counted and
// still reaches the caller, also when the backend throws instead of rejecting.
import { describe, expect, test } from "bun:test";
import { NodeMetrics } from "../../src/metrics/node-metrics.ts";
import { TimedBackend } from "../../src/metrics/timed-backend.ts";
import type { Backend } from "../../src/store/backend.ts";
import { MemoryBackend } from "../../src/store/memory.ts";

const FIGURES = { membersByState: {}, hintBacklog: 0, gossipRounds: 0, rebalanceStreamed: 0, readRepairs: 0, majority: true, unreachablePeers: 0 };

/** A backend whose get rejects and whose count throws before it returns a promise; the rest is a memory backend's. */
function failingBackend(): Backend {
  const inner = new MemoryBackend({ valueBytesMax: 1024, clock: () => 0 });
  return Object.assign(Object.create(inner) as Backend, {
    get: () => Promise.reject(new Error("disk on fire")),
    count: () => {
      throw new Error("thrown at once");
    },
  });
}

const line = (text: string, name: string) => text.split("\n").find((l) => l.startsWith(name)) ?? "";

describe("a timed backend", () => {
  test("times a success, with 100 ms on the injected clock, and counts no failure", async () => {
    const metrics = new NodeMetrics();
    let now = 0;
    const store = new TimedBackend(new MemoryBackend({ valueBytesMax: 1024, clock: () => 0 }), metrics, () => (now += 50));
    expect(await store.get("absent")).toBeUndefined();
    const text = metrics.render(FIGURES);
    expect(line(text, 'limedb_store_operation_duration_seconds_count{backend="memory",operation="get"}')).toEndWith(" 1");
    expect(line(text, 'limedb_store_operation_duration_seconds_sum{backend="memory",operation="get"}')).toEndWith(" 0.05");
    expect(line(text, "limedb_store_operation_failures_total{")).toBe("");
  });

  test("a rejected operation reaches the caller and is counted as a failure", async () => {
    const metrics = new NodeMetrics();
    const store = new TimedBackend(failingBackend(), metrics);
    await expect(store.get("k")).rejects.toThrow("disk on fire");
    expect(line(metrics.render(FIGURES), 'limedb_store_operation_failures_total{backend="memory",operation="get"}')).toEndWith(" 1");
  });

  test("a backend that throws instead of rejecting gives a rejected promise, counted, never a throw", async () => {
    const metrics = new NodeMetrics();
    const store = new TimedBackend(failingBackend(), metrics);
    let answer: Promise<number> | undefined;
    expect(() => {
      answer = store.count();
    }).not.toThrow();
    await expect(answer!).rejects.toThrow("thrown at once");
    expect(line(metrics.render(FIGURES), 'limedb_store_operation_failures_total{backend="memory",operation="count"}')).toEndWith(" 1");
  });

  test("a read at once is timed and counted as a get; its failure is thrown, counted, and a backend without one offers none", async () => {
    const metrics = new NodeMetrics();
    let now = 0;
    const memory = new MemoryBackend({ valueBytesMax: 1024, clock: () => 0 });
    await memory.put({ key: "k", value: "v", version: { wallMs: 1, counter: 0, node: "n" }, tombstone: false, expiresAtMs: undefined });
    const store = new TimedBackend(memory, metrics, () => (now += 50));
    expect(store.getSync!("k")?.value).toBe("v");
    const text = metrics.render(FIGURES);
    expect(line(text, 'limedb_store_operation_duration_seconds_count{backend="memory",operation="get"}')).toEndWith(" 1");
    expect(line(text, 'limedb_store_operation_duration_seconds_sum{backend="memory",operation="get"}')).toEndWith(" 0.05");
    await memory.close();
    expect(() => store.getSync!("k")).toThrow("closed");
    expect(line(metrics.render(FIGURES), 'limedb_store_operation_failures_total{backend="memory",operation="get"}')).toEndWith(" 1");
    const withoutOne = Object.assign(Object.create(memory) as Backend, { getSync: undefined });
    expect(new TimedBackend(withoutOne, metrics).getSync).toBeUndefined();
  });
});
