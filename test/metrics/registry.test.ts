// Counters and histograms: label sets, cumulative buckets, and the bound on series.
import { describe, expect, test } from "bun:test";
import { Counter, Histogram, SERIES_MAX } from "../../src/metrics/registry.ts";
import { clusterFamilies, countByState, NodeMetrics, UNMATCHED_ROUTE } from "../../src/metrics/node-metrics.ts";
import { renderText } from "../../src/metrics/text-format.ts";
import { checkHistograms, parsePrometheusText, select } from "../support/prometheus-text.ts";

describe("Counter", () => {
  test("one label set is one series whatever order the labels are written in", () => {
    const counter = new Counter("c_total", "help", ["a", "b"]);
    counter.inc({ a: "1", b: "2" });
    counter.inc({ b: "2", a: "1" }, 2);
    expect(counter.value({ a: "1", b: "2" })).toBe(3);
    expect(counter.collect().samples).toEqual([{ name: "c_total", labels: { a: "1", b: "2" }, value: 3 }]);
  });

  test.each([[-1], [NaN]])("refuses to go down by %p", (by) => {
    expect(() => new Counter("c_total", "help", []).inc({}, by)).toThrow();
  });

  test("keeps at most SERIES_MAX label sets and drops the rest", () => {
    const counter = new Counter("c_total", "help", ["n"]);
    for (let i = 0; i < SERIES_MAX + 10; i++) counter.inc({ n: String(i) });
    expect(counter.collect().samples).toHaveLength(SERIES_MAX);
  });
});

describe("Histogram", () => {
  test("buckets are cumulative and the +Inf bucket equals the count", () => {
    const histogram = new Histogram("h_ms", "help", ["route"], [1, 10, 100]);
    for (const value of [0.5, 1, 5, 50, 500, 5000]) histogram.observe({ route: "/x" }, value);
    const samples = parsePrometheusText(renderText([histogram.collect()]));
    expect(select(samples, "h_ms_bucket").map((sample) => [sample.labels.le, sample.value])).toEqual([
      ["1", 2],
      ["10", 3],
      ["100", 4],
      ["+Inf", 6],
    ]);
    expect(select(samples, "h_ms_count")[0]?.value).toBe(6);
    expect(select(samples, "h_ms_sum")[0]?.value).toBe(5556.5);
    checkHistograms(samples, "h_ms");
  });

  test("a bound series records a value many times over as that many observations of it", () => {
    const histogram = new Histogram("h_ms", "help", ["route"], [1, 10, 100]);
    const record = histogram.bind({ route: "/x" });
    record(5, 17);
    record(50);
    const samples = parsePrometheusText(renderText([histogram.collect()]));
    expect(select(samples, "h_ms_bucket").map((sample) => sample.value)).toEqual([0, 17, 18, 18]);
    expect(select(samples, "h_ms_count")[0]?.value).toBe(18);
    expect(select(samples, "h_ms_sum")[0]?.value).toBe(135);
  });

  test("refuses bounds that do not increase", () => {
    expect(() => new Histogram("h_ms", "help", [], [1, 1])).toThrow();
  });
});

describe("NodeMetrics", () => {
  test("counts an unknown method as OTHER and an unmatched request under one route label", () => {
    const metrics = new NodeMetrics();
    metrics.recordRequest(undefined, "BREW", 404, 1);
    expect(metrics.requests.value({ route: UNMATCHED_ROUTE, method: "OTHER", status: "404" })).toBe(1);
  });

  test("a bound request recorder counts into the same series as recordRequest, for each status, past its bound of statuses too", () => {
    const metrics = new NodeMetrics();
    const record = metrics.requestRecorder("/api/v1/get/:key", "GET");
    record(200, 2);
    metrics.recordRequest("/api/v1/get/:key", "GET", 200, 4);
    record(200, 6);
    record(404, 1);
    const statuses = Array.from({ length: 40 }, (_, i) => 500 + i);
    for (const status of statuses) record(status, 1);
    for (const status of statuses) record(status, 1);
    const samples = parsePrometheusText(metrics.render({ membersByState: {}, hintBacklog: 0, gossipRounds: 0, rebalanceStreamed: 0, readRepairs: 0, majority: true, unreachablePeers: 0 }));
    const labels = (status: number) => ({ route: "/api/v1/get/:key", method: "GET", status: String(status) });
    expect(metrics.requests.value(labels(200))).toBe(3);
    expect(select(samples, "limedb_http_request_duration_seconds_sum", labels(200))[0]?.value).toBeCloseTo(0.012);
    expect(metrics.requests.value(labels(404))).toBe(1);
    for (const status of statuses) expect(metrics.requests.value(labels(status))).toBe(2);
  });

  test("calls served are counted by operation and outcome, many at once as so many calls", () => {
    const metrics = new NodeMetrics();
    metrics.recordServed("get", "ok", 17);
    metrics.recordServed("get", "ok");
    metrics.recordServed("get", "too_large", 2);
    expect(metrics.peerCallsServed.value({ op: "get", outcome: "ok" })).toBe(18);
    expect(metrics.peerCallsServed.value({ op: "get", outcome: "too_large" })).toBe(2);
  });

  test("names every member state even when none is in it", () => {
    expect(countByState([{ state: "active" }, { state: "active" }, { state: "dead" }])).toEqual({ active: 2, stale: 0, dead: 1, removed: 0 });
    expect(countByState([{ state: "dead", removed: true }, { state: "dead" }])).toEqual({ active: 0, stale: 0, dead: 1, removed: 1 });
  });

  test("renders the cluster figures as gauges and counters", () => {
    const text = renderText(
      clusterFamilies({ membersByState: { active: 3, stale: 0, dead: 1 }, hintBacklog: 7, gossipRounds: 12, rebalanceStreamed: 40, readRepairs: 2, majority: false, unreachablePeers: 2 }),
    );
    const samples = parsePrometheusText(text);
    expect(select(samples, "limedb_members", { state: "dead" })[0]?.value).toBe(1);
    expect(select(samples, "limedb_hint_backlog")[0]?.value).toBe(7);
    expect(select(samples, "limedb_gossip_rounds_total")[0]?.value).toBe(12);
    expect(select(samples, "limedb_rebalance_streamed_total")[0]?.value).toBe(40);
    expect(select(samples, "limedb_read_repairs_total")[0]?.value).toBe(2);
    expect(select(samples, "limedb_cluster_majority")[0]?.value).toBe(0);
    expect(select(samples, "limedb_peers_unreachable")[0]?.value).toBe(2);
    expect(text).toContain("# TYPE limedb_members gauge\n");
    expect(text).toContain("# TYPE limedb_gossip_rounds_total counter\n");
  });
});
