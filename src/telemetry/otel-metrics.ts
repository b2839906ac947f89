// The figures of NodeMetrics as OpenTelemetry instruments: recorded as they happen, cluster state read at each export.
import type { Meter } from "@opentelemetry/api";
import { LATENCY_BUCKETS_MS } from "../metrics/registry.ts";
import type { ClusterFigures, MetricsMirror } from "../metrics/node-metrics.ts";

/** Names follow OpenTelemetry's dotted style; the Prometheus names of /metrics carry the same figures. */
export function otelMetricsMirror(meter: Meter): MetricsMirror {
  const latency = (name: string, description: string) =>
    meter.createHistogram(name, { description, unit: "ms", advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS_MS] } });
  const requests = meter.createCounter("limedb.http.requests", { description: "HTTP requests answered, by route template, method and status." });
  const requestDuration = latency("limedb.http.request.duration", "Time to answer an HTTP request, by route template, method and status.");
  const storeDuration = latency("limedb.store.operation.duration", "Time a store operation took, by backend and operation.");
  const storeFailures = meter.createCounter("limedb.store.operation.failures", { description: "Store operations that threw, by backend and operation." });
  const forwards = meter.createCounter("limedb.forwards", { description: "Requests this node sent to peers, by the peer's route template." });
  const forwardFailures = meter.createCounter("limedb.forward.failures", { description: "Requests to peers that failed, by route template and reason." });
  const forwardDuration = latency("limedb.forward.duration", "Time until a peer's answer began, by route template.");

  return {
    request(route, method, status, durationMs) {
      const attributes = { "http.route": route, "http.request.method": method, "http.response.status_code": status };
      requests.add(1, attributes);
      requestDuration.record(durationMs, attributes);
    },
    storeOperation(backend, operation, durationMs, failed) {
      const attributes = { "limedb.store.backend": backend, "limedb.store.operation": operation };
      storeDuration.record(durationMs, attributes);
      if (failed) storeFailures.add(1, attributes);
    },
    forward(route, durationMs, failure) {
      forwards.add(1, { "http.route": route });
      forwardDuration.record(durationMs, { "http.route": route });
      if (failure !== undefined) forwardFailures.add(1, { "http.route": route, "error.type": failure });
    },
  };
}

/** Cluster state, read from its owners once per export. */
export function watchClusterFigures(meter: Meter, figures: () => ClusterFigures): void {
  const members = meter.createObservableGauge("limedb.members", { description: "Members this node knows, by state." });
  const hintBacklog = meter.createObservableGauge("limedb.hint.backlog", { description: "Writes waiting here for replicas that were down." });
  const gossipRounds = meter.createObservableCounter("limedb.gossip.rounds", { description: "Gossip rounds this node has started." });
  const streamed = meter.createObservableCounter("limedb.rebalance.streamed", { description: "Keys streamed to new replicas by rebalancing." });
  const readRepairs = meter.createObservableCounter("limedb.read_repairs", { description: "Stale replicas repaired by reads." });
  // One read of the cluster state per export serves every instrument that shows it.
  meter.addBatchObservableCallback(
    (result) => {
      const now = figures();
      for (const [state, count] of Object.entries(now.membersByState)) result.observe(members, count, { "limedb.member.state": state });
      result.observe(hintBacklog, now.hintBacklog);
      result.observe(gossipRounds, now.gossipRounds);
      result.observe(streamed, now.rebalanceStreamed);
      result.observe(readRepairs, now.readRepairs);
    },
    [members, hintBacklog, gossipRounds, streamed, readRepairs],
  );
}
