// Client spans over OpenTelemetry for every call to a peer, with the trace context in the call's headers.
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { PeerObserver } from "../node/peer-client.ts";

export function tracePeerCalls(tracer: Tracer): PeerObserver {
  return async ({ route, target }, headers, send) => {
    // Inside a request this is a child of its server span; in a gossip round or a hint delivery it starts a trace.
    const span = tracer.startSpan(route, { kind: SpanKind.CLIENT, attributes: { "server.address": target, "http.route": route } });
    propagation.inject(trace.setSpan(context.active(), span), headers);
    try {
      const response = await send();
      span.setAttribute("http.response.status_code", response.status);
      if (response.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      return response;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  };
}
