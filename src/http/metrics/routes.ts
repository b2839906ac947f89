// GET /metrics: request, store and cluster figures in Prometheus text format (counted by ../request-hooks.ts).
import { Elysia } from "elysia";
import type { ClusterFigures, NodeMetrics } from "../../metrics/node-metrics.ts";
import { METRICS_CONTENT_TYPE } from "../../metrics/text-format.ts";

export interface MetricsOptions {
  readonly metrics: NodeMetrics;
  /** Cluster state read when scraped. */
  readonly figures: () => ClusterFigures;
}

export function metricsRoutes({ metrics, figures }: MetricsOptions) {
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    () => new Response(metrics.render(figures()), { headers: { "content-type": METRICS_CONTENT_TYPE } }),
    { detail: { tags: ["health"], summary: "Request, store and cluster figures in Prometheus text format" } },
  );
}
