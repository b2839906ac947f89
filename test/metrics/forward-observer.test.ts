// Forward counting: every call to a peer is counted by route template, and only real failures count as failures.
import { describe, expect, test } from "bun:test";
import { countForwards, forwardFailure } from "../../src/metrics/forward-observer.ts";
import { NodeMetrics } from "../../src/metrics/node-metrics.ts";

const ROUTE = "POST /api/v1/replica/put";

function named(name: string): Error {
  const error = new Error(name);
  error.name = name;
  return error;
}

describe("forwardFailure", () => {
  test.each([
    ["a 200", { response: new Response("OK") }, undefined],
    ["a 404 (the peer holds no such key)", { response: new Response("", { status: 404 }) }, undefined],
    ["a 400 (the peer judged the request)", { response: new Response("", { status: 400 }) }, undefined],
    ["a 401 (the secrets differ)", { response: new Response("", { status: 401 }) }, "401"],
    ["a 500", { response: new Response("", { status: 500 }) }, "500"],
    ["a 503", { response: new Response("", { status: 503 }) }, "503"],
    ["a timeout", { error: named("TimeoutError") }, "timeout"],
    ["an abort", { error: named("AbortError") }, "timeout"],
    ["a refused connection", { error: new TypeError("Unable to connect") }, "unreachable"],
    ["something thrown that is not an Error", { error: "boom" }, "unreachable"],
  ] as const)("%s is %p", (_name, outcome, reason) => {
    expect(forwardFailure(outcome)).toBe(reason);
  });
});

describe("countForwards", () => {
  test("counts each call with its time to answer, passes the answer through and rethrows a failure", async () => {
    const metrics = new NodeMetrics();
    let nowMs = 1000;
    const observe = countForwards(metrics, () => nowMs);
    const answer = new Response("OK");
    const passed = await observe({ route: ROUTE }, {}, async () => {
      nowMs += 3;
      return answer;
    });
    expect(passed).toBe(answer);
    const refused = new TypeError("Unable to connect");
    const thrown = await observe({ route: ROUTE }, {}, async () => {
      nowMs += 7;
      throw refused;
    }).catch((error: unknown) => error);
    expect(thrown).toBe(refused);

    expect(metrics.forwards.value({ route: ROUTE })).toBe(2);
    expect(metrics.forwardFailures.value({ route: ROUTE, reason: "unreachable" })).toBe(1);
    const samples = metrics.forwardDuration.collect().samples;
    expect(samples.find((sample) => sample.name === "limedb_forward_duration_ms_sum")?.value).toBe(10);
    expect(samples.find((sample) => sample.name === "limedb_forward_duration_ms_count")?.value).toBe(2);
  });

  test("forward figures appear in the Prometheus text", () => {
    const metrics = new NodeMetrics();
    metrics.recordForward(ROUTE, 2, "timeout");
    const text = metrics.render({ membersByState: { active: 1 }, hintBacklog: 0, gossipRounds: 0, rebalanceStreamed: 0, readRepairs: 0, majority: true, unreachablePeers: 0 });
    expect(text).toContain(`limedb_forwards_total{route="${ROUTE}"} 1`);
    expect(text).toContain(`limedb_forward_failures_total{route="${ROUTE}",reason="timeout"} 1`);
  });
});
