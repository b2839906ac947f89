// Client spans over OpenTelemetry for every call to a peer, with the trace context in the call's carrier.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { peerFailure, type PeerCall, type PeerCallTracing, type PeerObserver } from "../node/peer-transport.ts";

export function tracePeerCalls(tracer: Tracer): PeerObserver {
  return async <T>({ op, target }: PeerCall, carrier: Record<string, string>, send: () => Promise<T>): Promise<T> => {
    // Inside a request this is a child of its server span; in a gossip round or a hint delivery it starts a trace.
    const span = tracer.startSpan(`peer ${op}`, { kind: SpanKind.CLIENT, attributes: { "server.address": target, "limedb.peer.op": op } });
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    try {
      const value = await send();
      if (value instanceof Response) span.setAttribute("http.response.status_code", value.status);
      if (peerFailure({ value }) !== undefined || (value instanceof Response && value.status >= 400)) span.setStatus({ code: SpanStatusCode.ERROR });
      return value;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  };
}

/** Server spans for the calls a peer makes on the bus: children of the caller's client span, named by operation. */
export function tracePeerServing(tracer: Tracer): PeerCallTracing {
  return {
    run(op, traceparent, handle) {
      const parent = traceparent === "" ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, { traceparent });
      const span = tracer.startSpan(`peer ${op}`, { kind: SpanKind.SERVER, attributes: { "limedb.peer.op": op } }, parent);
      return context.with(trace.setSpan(parent, span), handle).then(
        (answer) => {
          span.end();
          return answer;
        },
        (error: unknown) => {
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
          throw error;
        },
      );
    },
  };
}
