// Server and client spans in-process, against the SDK's in-memory exporter: names, parents, status, and the active span.
import { describe, expect, test } from "bun:test";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { NodeError } from "../../src/node/errors.ts";
import type { ReplicaPeers } from "../../src/node/replication.ts";
import { tracePeerCalls } from "../../src/telemetry/peer-tracing.ts";
import { otelRequestTracing } from "../../src/telemetry/request-tracing.ts";
import { detachFromTrace, enableTraceContext } from "../../src/telemetry/telemetry.ts";
import { buildTestApp, NODE_URL } from "../support/app.ts";

const OTHER = "http://127.0.0.1:7002";
const KEY = "span-key-zq9x";

function tracing() {
  enableTraceContext();
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer("test");
  return { exporter, tracer, requests: otelRequestTracing(tracer) };
}

/** The span is ended after the response is sent, so it is read once it is there. */
async function finishedSpans(exporter: InMemorySpanExporter, count: number) {
  // Bounded at 5 s: the hook runs right after the response, so only a very loaded machine comes near it.
  for (let attempt = 0; attempt < 1000 && exporter.getFinishedSpans().length < count; attempt++) await Bun.sleep(5);
  return exporter.getFinishedSpans();
}

describe("server spans", () => {
  test("a request's span is named by method and route template, with route and status, never the key", async () => {
    const { exporter, requests } = tracing();
    const { client } = buildTestApp({ tracing: requests });
    expect((await client.get(KEY)).status).toBe(404);
    const [span] = await finishedSpans(exporter, 1);
    expect(span?.name).toBe("GET /api/v1/get/:key");
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.attributes).toMatchObject({ "http.route": "/api/v1/get/:key", "http.response.status_code": 404, "http.request.method": "GET" });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(JSON.stringify(span?.attributes)).not.toContain(KEY);
  });

  test("a path no route matched is named unmatched, as the path may hold a key", async () => {
    const { exporter, requests } = tracing();
    const { client } = buildTestApp({ tracing: requests });
    expect((await client.path(`/api/v1/nothing/${KEY}`)).status).toBe(404);
    const [span] = await finishedSpans(exporter, 1);
    expect(span?.name).toBe("GET unmatched");
    expect(JSON.stringify({ name: span?.name, attributes: span?.attributes, events: span?.events })).not.toContain(KEY);
  });

  test("a caller's traceparent makes the span its child", async () => {
    const { exporter, requests } = tracing();
    const { client } = buildTestApp({ tracing: requests });
    await client.path("/api/v1/health", { headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } });
    const [span] = await finishedSpans(exporter, 1);
    expect(span?.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(span?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
  });

  test("the handler's calls to replicas run with the request's span active, and a 5xx marks it failed", async () => {
    const { exporter, requests } = tracing();
    const activeAtCall: (string | undefined)[] = [];
    const peers: ReplicaPeers = {
      putReplica: async (target) => {
        activeAtCall.push(trace.getActiveSpan()?.spanContext().spanId);
        throw new NodeError("unavailable", `replica ${target} is unreachable`);
      },
      getReplica: async () => undefined,
      versionOf: async () => undefined,
    };
    // Two replicas of which one is down and a quorum of two: the write fails with 503.
    const { client } = buildTestApp({ tracing: requests, ringNodes: [NODE_URL, OTHER], replicationFactor: 2, peers });
    expect((await client.set(KEY, "v")).status).toBe(503);
    const [span] = await finishedSpans(exporter, 1);
    expect(activeAtCall).toEqual([span?.spanContext().spanId]);
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe("client spans", () => {
  test("a call to a peer is a client span under the active one, and its traceparent names that span", async () => {
    const { exporter, tracer } = tracing();
    const observe = tracePeerCalls(tracer);
    const headers: Record<string, string> = {};
    const parent = tracer.startSpan("parent");
    await context.with(trace.setSpan(context.active(), parent), () => observe({ op: "put", target: OTHER }, headers, async () => ({ outcomes: [] })));
    parent.end();
    const [client] = exporter.getFinishedSpans();
    expect(client?.name).toBe("peer put");
    expect(client?.kind).toBe(SpanKind.CLIENT);
    expect(client?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(headers.traceparent).toBe(`00-${parent.spanContext().traceId}-${client?.spanContext().spanId}-01`);
  });

  test("background work detached from a request starts a trace of its own", async () => {
    const { tracer } = tracing();
    const request = tracer.startSpan("request");
    const inside = context.with(trace.setSpan(context.active(), request), () => ({
      active: trace.getActiveSpan(),
      detached: detachFromTrace(() => trace.getActiveSpan()),
    }));
    request.end();
    expect(inside.active).toBe(request);
    expect(inside.detached).toBeUndefined();
  });

  test("a call that throws ends its span as failed and rethrows", async () => {
    const { exporter, tracer } = tracing();
    const refused = new TypeError("Unable to connect");
    const thrown = await tracePeerCalls(tracer)({ op: "gossip", target: OTHER }, {}, async () => {
      throw refused;
    }).catch((error: unknown) => error);
    expect(thrown).toBe(refused);
    const [client] = exporter.getFinishedSpans();
    expect(client?.status).toEqual({ code: SpanStatusCode.ERROR, message: "Unable to connect" });
  });
});
