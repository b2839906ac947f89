// Peer call counting: every call to a peer is counted by operation, and only real failures count as failures.
import { describe, expect, test } from "bun:test";
import { countPeerCalls } from "../../src/metrics/peer-call-metrics.ts";
import { NodeError } from "../../src/node/errors.ts";
import { heard, peerFailure, PeerRefusal } from "../../src/node/peer-transport.ts";
import { NodeMetrics } from "../../src/metrics/node-metrics.ts";

const ROUTE = "put";

function named(name: string): Error {
  const error = new Error(name);
  error.name = name;
  return error;
}

describe("peerFailure", () => {
  test.each([
    ["a 200", { value: new Response("OK") }, undefined],
    ["a 404 (the peer holds no such key)", { value: new Response("", { status: 404 }) }, undefined],
    ["a 400 (the peer judged the request)", { value: new Response("", { status: 400 }) }, undefined],
    ["a 401 (the secrets differ)", { value: new Response("", { status: 401 }) }, "401"],
    ["a 500", { value: new Response("", { status: 500 }) }, "500"],
    ["a 503", { value: new Response("", { status: 503 }) }, "503"],
    ["an answer on the bus", { value: { outcomes: [] } }, undefined],
    ["a bus refusal judging the call", { error: new PeerRefusal("bad_request", "malformed", "bad_request") }, undefined],
    ["a bus refusal for the peer's own failure", { error: new PeerRefusal("unavailable", "its store failed", "store_unavailable") }, "store_unavailable"],
    ["a bus deadline", { error: new NodeError("timeout", "no answer") }, "timeout"],
    ["a bus peer that cannot be reached", { error: new NodeError("unavailable", "unreachable") }, "unreachable"],
    ["a timeout", { error: named("TimeoutError") }, "timeout"],
    ["an abort", { error: named("AbortError") }, "timeout"],
    ["a refused connection", { error: new TypeError("Unable to connect") }, "unreachable"],
    ["something thrown that is not an Error", { error: "boom" }, "unreachable"],
  ] as const)("%s is %p", (_name, outcome, reason) => {
    expect(peerFailure(outcome)).toBe(reason);
  });
});

describe("countPeerCalls", () => {
  test("counts each call with its time to answer, passes the answer through and rethrows a failure", async () => {
    const metrics = new NodeMetrics();
    let nowMs = 1000;
    const listener = countPeerCalls(metrics, () => nowMs);
    const answer = new Response("OK");
    const passed = await heard(listener, { op: ROUTE, target: "http://127.0.0.1:1" }, (async () => {
      await Bun.sleep(0);
      nowMs += 3;
      return answer;
    })());
    expect(passed).toBe(answer);
    const refused = new TypeError("Unable to connect");
    const thrown = await heard(listener, { op: ROUTE, target: "http://127.0.0.1:1" }, (async () => {
      await Bun.sleep(0);
      nowMs += 7;
      throw refused;
    })()).catch((error: unknown) => error);
    expect(thrown).toBe(refused);

    expect(metrics.peerCalls.value({ op: ROUTE })).toBe(2);
    expect(metrics.peerCallFailures.value({ op: ROUTE, reason: "unreachable" })).toBe(1);
    const samples = metrics.peerCallDuration.collect().samples;
    expect(samples.find((sample) => sample.name === "limedb_peer_call_duration_seconds_sum")?.value).toBeCloseTo(0.01, 9);
    expect(samples.find((sample) => sample.name === "limedb_peer_call_duration_seconds_count")?.value).toBe(2);
  });

  test("each item of a merged call counts as a call, with the merged call's time, and fails with it", async () => {
    const metrics = new NodeMetrics();
    let nowMs = 1000;
    const listener = countPeerCalls(metrics, () => nowMs);
    await heard(listener, { op: ROUTE, target: "http://127.0.0.1:1", items: 17 }, (async () => {
      await Bun.sleep(0);
      nowMs += 2;
    })());
    await heard(listener, { op: ROUTE, target: "http://127.0.0.1:1", items: 3 }, Promise.reject(new NodeError("timeout", "no answer"))).catch(() => undefined);

    expect(metrics.peerCalls.value({ op: ROUTE })).toBe(20);
    expect(metrics.peerCallFailures.value({ op: ROUTE, reason: "timeout" })).toBe(3);
    const samples = metrics.peerCallDuration.collect().samples;
    expect(samples.find((sample) => sample.name === "limedb_peer_call_duration_seconds_count")?.value).toBe(20);
    expect(samples.find((sample) => sample.name === "limedb_peer_call_duration_seconds_sum")?.value).toBeCloseTo(0.034, 9);
  });

  test("items of an answered merged call that the peer refused for its own failure count as failures; those it judged do not", () => {
    const metrics = new NodeMetrics();
    const tell = countPeerCalls(metrics, () => 1000)({ op: ROUTE, target: "http://127.0.0.1:1", items: 4 });
    const refusal = (code: string) => new PeerRefusal(code === "bad_request" ? "bad_request" : "unavailable", "refused", code);
    tell({ value: [], itemErrors: [refusal("store_unavailable"), refusal("bad_request"), refusal("store_unavailable")] });
    expect(metrics.peerCalls.value({ op: ROUTE })).toBe(4);
    expect(metrics.peerCallFailures.value({ op: ROUTE, reason: "store_unavailable" })).toBe(2);
    expect(metrics.peerCallFailures.value({ op: ROUTE, reason: "bad_request" })).toBe(0);
  });

  test("peer call figures appear in the Prometheus text", () => {
    const metrics = new NodeMetrics();
    metrics.recordPeerCall(ROUTE, 2, "timeout");
    const text = metrics.render({ membersByState: { active: 1 }, hintBacklog: 0, gossipRounds: 0, rebalanceStreamed: 0, readRepairs: 0, majority: true, unreachablePeers: 0 });
    expect(text).toContain(`limedb_peer_calls_total{op="${ROUTE}"} 1`);
    expect(text).toContain(`limedb_peer_call_failures_total{op="${ROUTE}",reason="timeout"} 1`);
  });
});
