// GET /metrics in Prometheus text format, and the hooks that count every request by route template and status.
import { Elysia } from "elysia";
import type { ClusterFigures, NodeMetrics } from "../../metrics/node-metrics.ts";
import { METRICS_CONTENT_TYPE } from "../../metrics/text-format.ts";

export interface MetricsOptions {
  readonly metrics: NodeMetrics;
  /** Cluster state read when scraped. */
  readonly figures: () => ClusterFigures;
  /** Milliseconds for request latency; main passes performance.now, tests a clock they move. */
  readonly nowMs: () => number;
}

export function metricsRoutes({ metrics, figures, nowMs }: MetricsOptions) {
  // Keyed by the Request itself, so nothing is left behind when a request is dropped half-way.
  const startedMs = new WeakMap<Request, number>();
  return new Elysia({ name: "metrics" })
    .onRequest(({ request }) => {
      startedMs.set(request, nowMs());
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
      const started = startedMs.get(request);
      if (started === undefined) return;
      startedMs.delete(request);
      // A returned Response carries its own status; otherwise it is what the handler or onError set.
      const status = responseValue instanceof Response ? responseValue.status : typeof set.status === "number" ? set.status : 200;
      // `route` is the matched pattern (/api/v1/get/:key), never the raw path, so no key becomes a label.
      metrics.recordRequest(route === "" ? undefined : route, request.method, status, nowMs() - started);
    })
    .get(
      "/metrics",
      () => new Response(metrics.render(figures()), { headers: { "content-type": METRICS_CONTENT_TYPE } }),
      { detail: { tags: ["health"], summary: "Request, store and cluster figures in Prometheus text format" } },
    );
}
