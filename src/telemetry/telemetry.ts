// OpenTelemetry for one node when OTEL_ENDPOINT is set: OTLP/HTTP traces and metrics, exported in the background.
import { context, diag, DiagLogLevel, propagation, ROOT_CONTEXT, type DiagLogger, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { setGlobalErrorHandler, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from "@opentelemetry/sdk-trace";
import type { RequestTracing } from "../http/request-hooks.ts";
import type { MetricFamily } from "../metrics/registry.ts";
import type { PeerCallTracing, PeerObserver } from "../node/peer-transport.ts";
import { throttled } from "../log/throttle.ts";
import { registryProducer } from "./registry-producer.ts";
import { tracePeerCalls, tracePeerServing } from "./peer-tracing.ts";
import { otelRequestTracing } from "./request-tracing.ts";

/**
 * Bound on one export. A collector that hangs holds one export this long; meanwhile spans queue
 * up to SPAN_QUEUE_SPANS_MAX and newer ones are dropped, so a request never waits on the collector.
 */
export const EXPORT_TIMEOUT_MS = 10_000;
/** Finished spans kept for export; past it spans are dropped rather than memory grown. */
const SPAN_QUEUE_SPANS_MAX = 4096;
const SPAN_BATCH_SPANS_MAX = 512;
/** A collector that stays down is reported once per this, not once per export. */
export const EXPORT_ERROR_REPORT_INTERVAL_MS = 60_000;
const SCOPE = "limedb";

export interface TelemetryOptions {
  /** The collector's OTLP/HTTP base URL; traces go to /v1/traces and metrics to /v1/metrics under it. */
  readonly endpoint: string;
  readonly exportIntervalMs: number;
  /** Share of traces this node begins that are recorded; a trace begun elsewhere keeps its caller's choice. */
  readonly sampleRatio: number;
  readonly nodeUrl: string;
  readonly version: string;
  /** Told of a failed export at most once per EXPORT_ERROR_REPORT_INTERVAL_MS, with how many it kept quiet. */
  readonly onExportError: (error: unknown, suppressed: number) => void;
  readonly clock: () => number;
}

export interface Telemetry {
  readonly requests: RequestTracing;
  readonly peerCalls: PeerObserver;
  readonly peerServing: PeerCallTracing;
  /** Runs background work in a trace of its own, whatever request or gossip exchange woke it. */
  detach<T>(run: () => T): T;
  /** Starts exporting the node's figures, the families /metrics renders; called once the node is built. */
  exportMetrics(families: () => readonly MetricFamily[]): void;
  /** Exports what is left and stops, within `timeoutMs`. */
  shutdown(timeoutMs: number): Promise<void>;
}

function signalUrl(endpoint: string, signal: "traces" | "metrics"): string {
  return `${endpoint.endsWith("/") ? endpoint : `${endpoint}/`}v1/${signal}`;
}

/** The SDK's own warnings and errors (an export that timed out, spans dropped from a full queue) as reports. */
function diagReporter(report: (error: unknown) => void): DiagLogger {
  const forward = (message: string, ...args: unknown[]) =>
    report(new Error([message, ...args.map((arg) => (arg instanceof Error ? arg.message : String(arg)))].join(" ")));
  const ignore = () => undefined;
  return { error: forward, warn: forward, info: ignore, debug: ignore, verbose: ignore };
}

/** Runs `run` with no active span, so the spans it starts begin a trace of their own. */
export function detachFromTrace<T>(run: () => T): T {
  return context.with(ROOT_CONTEXT, run);
}

let contextManagerSet = false;

/** One per process: the active span follows each request through its awaits, and travels as W3C traceparent. */
export function enableTraceContext(): void {
  if (contextManagerSet) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  contextManagerSet = true;
}

export function startTelemetry(options: TelemetryOptions): Telemetry {
  enableTraceContext();
  // Failed exports reach the SDK's global handler, timed-out ones and dropped spans its diag logger;
  // without both the SDK would stay silent about a collector that is down.
  const report = throttled(options.onExportError, EXPORT_ERROR_REPORT_INTERVAL_MS, options.clock);
  setGlobalErrorHandler(report);
  diag.setLogger(diagReporter(report), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const resource = resourceFromAttributes({ "service.name": SCOPE, "service.version": options.version, "service.instance.id": options.nodeUrl });
  const traceExporter = new OTLPTraceExporter({ url: signalUrl(options.endpoint, "traces"), timeoutMillis: EXPORT_TIMEOUT_MS });
  const tracerProvider = new TracerProvider({
    resource,
    // Spans cost CPU on the node that records and exports them; a ratio below 1 trades coverage for speed.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: traceExporter,
        scheduledDelayMillis: options.exportIntervalMs,
        exportTimeoutMillis: EXPORT_TIMEOUT_MS,
        maxQueueSize: SPAN_QUEUE_SPANS_MAX,
        maxExportBatchSize: SPAN_BATCH_SPANS_MAX,
      }),
    ],
  });
  // The meter provider records nothing itself: its reader exports the registry through the producer.
  let families: (() => readonly MetricFamily[]) | undefined;
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        metricProducers: [registryProducer({ name: SCOPE, version: options.version }, () => families?.())],
        exporter: new OTLPMetricExporter({ url: signalUrl(options.endpoint, "metrics"), timeoutMillis: EXPORT_TIMEOUT_MS }),
        exportIntervalMillis: options.exportIntervalMs,
        // The reader refuses a timeout longer than its interval.
        exportTimeoutMillis: Math.min(EXPORT_TIMEOUT_MS, options.exportIntervalMs),
      }),
    ],
  });
  const tracer: Tracer = tracerProvider.getTracer(SCOPE, options.version);
  return {
    requests: otelRequestTracing(tracer),
    peerCalls: tracePeerCalls(tracer),
    peerServing: tracePeerServing(tracer),
    detach: detachFromTrace,
    exportMetrics: (source) => {
      families = source;
    },
    async shutdown(timeoutMs) {
      const done = Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      await Promise.race([done, Bun.sleep(timeoutMs)]);
    },
  };
}
