// The OTLP metrics producer: the registry's families as OpenTelemetry metric data, figure for figure.
import { describe, expect, test } from "bun:test";
import { DataPointType, type MetricData } from "@opentelemetry/sdk-metrics";
import { NodeMetrics } from "../../src/metrics/node-metrics.ts";
import { otelName, registryProducer } from "../../src/telemetry/registry-producer.ts";

const FIGURES = { membersByState: { active: 3, stale: 0, dead: 1 }, hintBacklog: 7, gossipRounds: 12, rebalanceStreamed: 0, readRepairs: 2, majority: true, unreachablePeers: 0 };

async function exported(metrics: NodeMetrics): Promise<Map<string, MetricData>> {
  const result = await registryProducer({ name: "limedb", version: "0.0.0-test" }, () => metrics.families(FIGURES)).collect();
  expect(result.errors).toEqual([]);
  return new Map(result.resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]));
}

describe("otelName", () => {
  test.each([
    ["limedb_http_requests_total", "limedb.http.requests", ""],
    ["limedb_http_request_duration_seconds", "limedb.http.request.duration", "s"],
    ["limedb_members", "limedb.members", ""],
    ["limedb_peer_call_failures_total", "limedb.peer.call.failures", ""],
  ])("%s is %s in %p", (family, name, unit) => {
    expect(otelName(family)).toEqual({ name, unit });
  });
});

describe("registryProducer", () => {
  test("counters are monotonic sums with conventional attribute names, the status an integer", async () => {
    const metrics = new NodeMetrics();
    metrics.recordRequest("/api/v1/get/:key", "GET", 404, 1);
    metrics.recordRequest("/api/v1/get/:key", "GET", 404, 2);
    metrics.recordPeerCall("put", 3, "timeout");
    const data = await exported(metrics);
    const requests = data.get("limedb.http.requests")!;
    expect(requests).toMatchObject({ dataPointType: DataPointType.SUM, isMonotonic: true });
    expect(requests.dataPoints.map((point) => [point.attributes, point.value])).toEqual([
      [{ "http.route": "/api/v1/get/:key", "http.request.method": "GET", "http.response.status_code": 404 }, 2],
    ]);
    expect(data.get("limedb.peer.call.failures")?.dataPoints[0]?.attributes).toEqual({ "limedb.peer.op": "put", "error.type": "timeout" });
  });

  test("histograms keep the registry's bounds, per-bucket counts, sum and count", async () => {
    const metrics = new NodeMetrics();
    for (const ms of [0.05, 0.3, 0.3, 7, 20_000]) metrics.recordStoreOperation("sqlite", "get", ms, false);
    const histogram = (await exported(metrics)).get("limedb.store.operation.duration")!;
    expect(histogram.descriptor.unit).toBe("s");
    expect(histogram.dataPointType).toBe(DataPointType.HISTOGRAM);
    const [point] = histogram.dataPoints;
    expect(point?.attributes).toEqual({ "limedb.store.backend": "sqlite", "limedb.store.operation": "get" });
    const value = point?.value as { buckets: { boundaries: number[]; counts: number[] }; sum: number; count: number };
    // Recorded in ms, kept in seconds, Prometheus's unit of time.
    expect(value.buckets.boundaries).toEqual([0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    expect(value.buckets.counts).toEqual([1, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(value.count).toBe(5);
    expect(value.sum).toBeCloseTo((0.05 + 0.3 + 0.3 + 7 + 20_000) / 1000, 9);
  });

  test("cluster state is read at each export: members by state as a gauge, gossip rounds as a counter", async () => {
    const data = await exported(new NodeMetrics());
    const members = data.get("limedb.members")!;
    expect(members.dataPointType).toBe(DataPointType.GAUGE);
    expect(members.dataPoints.map((point) => [point.attributes["limedb.member.state"], point.value])).toEqual([["active", 3], ["stale", 0], ["dead", 1]]);
    expect(data.get("limedb.gossip.rounds")?.dataPoints[0]?.value).toBe(12);
    expect(data.get("limedb.hint.backlog")?.dataPoints[0]?.value).toBe(7);
  });

  test("before the node's figures exist it exports nothing rather than failing", async () => {
    const result = await registryProducer({ name: "limedb", version: "0" }, () => undefined).collect();
    expect(result.resourceMetrics.scopeMetrics).toEqual([{ scope: { name: "limedb", version: "0" }, metrics: [] }]);
  });
});
