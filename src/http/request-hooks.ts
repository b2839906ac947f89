// The hooks every request passes through: counted by route template and status, and traced when tracing is on.
import { Elysia } from "elysia";
import type { NodeMetrics } from "../metrics/node-metrics.ts";

/**
 * Server spans, implemented over OpenTelemetry in telemetry/; http only knows this shape. `run`
 * handles the whole request inside its span, so every call to a peer it makes joins its trace.
 */
export interface RequestTracing {
  run<T>(request: Request, handle: () => T): T;
  /** Names the request's span by route template (never the raw path, which can carry a key) and ends it. */
  end(request: Request, route: string | undefined, status: number): void;
}

export interface RequestHookOptions {
  readonly metrics: NodeMetrics;
  /** Milliseconds for request latency; main passes performance.now, tests a clock they move. */
  readonly nowMs: () => number;
  /** Absent when OTEL_ENDPOINT is empty: then no request pays for tracing at all. */
  readonly tracing?: RequestTracing;
  /** Told of every answered request; main passes it only at LOG_LEVEL=debug, so by default no request is logged. */
  readonly onAnswered?: (answered: AnsweredRequest) => void;
}

export interface AnsweredRequest {
  readonly method: string;
  /** The route template, or undefined when no route matched; never the raw path. */
  readonly route: string | undefined;
  readonly status: number;
  readonly durationMs: number;
}

type Handle = (request: Request) => unknown;

export function requestHooks({ metrics, nowMs, tracing, onAnswered }: RequestHookOptions) {
  // Keyed by the Request itself, so nothing is left behind when a request is dropped half-way.
  const startedMs = new WeakMap<Request, number>();
  const hooks = new Elysia({ name: "request-hooks" })
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
      const template = route === "" ? undefined : route;
      const durationMs = nowMs() - started;
      metrics.recordRequest(template, request.method, status, durationMs);
      tracing?.end(request, template, status);
      onAnswered?.({ method: request.method, route: template, status, durationMs });
    });
  if (tracing === undefined) return hooks;
  // Elysia's wrap runs the compiled handler of every request through this, parse and hooks included.
  return hooks.wrap(((handle: Handle, request: Request) => (incoming: Request) => tracing.run(request, () => handle(incoming))) as never);
}
