// An OTLP/HTTP receiver the tests run themselves: keeps every JSON trace and metric export nodes send it.

interface OtlpValue {
  readonly stringValue?: string;
  readonly intValue?: string | number;
}
interface OtlpAttribute {
  readonly key: string;
  readonly value: OtlpValue;
}
interface OtlpResource {
  readonly attributes?: readonly OtlpAttribute[];
}
interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes?: readonly OtlpAttribute[];
}
interface OtlpDataPoint {
  readonly attributes?: readonly OtlpAttribute[];
  readonly asInt?: string | number;
  readonly asDouble?: number;
  readonly count?: string | number;
}
interface OtlpMetric {
  readonly name: string;
  readonly sum?: { readonly dataPoints: readonly OtlpDataPoint[] };
  readonly gauge?: { readonly dataPoints: readonly OtlpDataPoint[] };
  readonly histogram?: { readonly dataPoints: readonly OtlpDataPoint[] };
}
interface TraceExport {
  readonly resourceSpans: readonly { resource: OtlpResource; scopeSpans: readonly { spans: readonly OtlpSpan[] }[] }[];
}
interface MetricExport {
  readonly resourceMetrics: readonly { resource: OtlpResource; scopeMetrics: readonly { metrics: readonly OtlpMetric[] }[] }[];
}

/** OTLP's span kinds by number (SPAN_KIND_SERVER = 2, SPAN_KIND_CLIENT = 3). */
export const SPAN_KIND = { server: 2, client: 3 } as const;

export interface ReceivedSpan {
  /** The sending node: its resource's service.instance.id. */
  readonly node: string;
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a trace's root. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface ReceivedPoint {
  readonly node: string;
  readonly metric: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** A sum's or gauge's value, or a histogram's count. */
  readonly value: number;
}

function attributesOf(list: readonly OtlpAttribute[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, String(value.stringValue ?? value.intValue ?? "")]));
}

export class OtlpReceiver implements AsyncDisposable {
  readonly spans: ReceivedSpan[] = [];
  readonly points: ReceivedPoint[] = [];
  /** Every export as it arrived, for checks that no field anywhere carries what it must not. */
  readonly bodies: string[] = [];
  /** Every request it got, by path: a node posting elsewhere would show here. */
  readonly requests = new Map<string, number>();
  private readonly server: ReturnType<typeof Bun.serve>;

  constructor() {
    this.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => this.receive(request) });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  private async receive(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
    if (request.headers.get("content-type") !== "application/json") return new Response("JSON only", { status: 415 });
    const text = await request.text();
    this.bodies.push(text);
    const body: unknown = JSON.parse(text);
    if (path === "/v1/traces") this.keepSpans(body as TraceExport);
    else if (path === "/v1/metrics") this.keepPoints(body as MetricExport);
    else return new Response("unknown signal", { status: 404 });
    return Response.json({});
  }

  private keepSpans(body: TraceExport): void {
    for (const { resource, scopeSpans } of body.resourceSpans) {
      const node = attributesOf(resource.attributes)["service.instance.id"] ?? "";
      for (const scope of scopeSpans) {
        for (const span of scope.spans) {
          const { traceId, spanId, name, kind } = span;
          this.spans.push({ node, traceId, spanId, parentSpanId: span.parentSpanId ?? "", name, kind, attributes: attributesOf(span.attributes) });
        }
      }
    }
  }

  private keepPoints(body: MetricExport): void {
    for (const { resource, scopeMetrics } of body.resourceMetrics) {
      const node = attributesOf(resource.attributes)["service.instance.id"] ?? "";
      for (const scope of scopeMetrics) {
        for (const metric of scope.metrics) {
          const points = metric.sum?.dataPoints ?? metric.gauge?.dataPoints ?? metric.histogram?.dataPoints ?? [];
          for (const point of points) {
            const value = Number(point.asInt ?? point.asDouble ?? point.count ?? Number.NaN);
            this.points.push({ node, metric: metric.name, attributes: attributesOf(point.attributes), value });
          }
        }
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.server.stop(true);
  }
}
