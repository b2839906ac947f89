// Server spans over OpenTelemetry: one per request, continuing the caller's trace, named by route template.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type TextMapGetter, type Tracer } from "@opentelemetry/api";
import type { RequestTracing } from "../http/request-hooks.ts";

/** The span name of a request no route matched; its raw path could carry a key. */
const UNMATCHED = "unmatched";

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => {
    const names: string[] = [];
    headers.forEach((_value, name) => names.push(name));
    return names;
  },
};

export function otelRequestTracing(tracer: Tracer): RequestTracing {
  const spans = new WeakMap<Request, Span>();
  return {
    run(request, handle) {
      // A peer's traceparent makes this span its child: one client request is one trace across nodes.
      const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
      // Named by method alone until the route is known; `end` renames it.
      const span = tracer.startSpan(request.method, { kind: SpanKind.SERVER, attributes: { "http.request.method": request.method } }, parent);
      spans.set(request, span);
      return context.with(trace.setSpan(parent, span), handle);
    },
    end(request, route, status) {
      const span = spans.get(request);
      if (span === undefined) return;
      spans.delete(request);
      span.updateName(`${request.method} ${route ?? UNMATCHED}`);
      span.setAttribute("http.route", route ?? UNMATCHED);
      span.setAttribute("http.response.status_code", status);
      // Per the HTTP conventions a server span fails only on 5xx; a 4xx is the client's mistake.
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}
