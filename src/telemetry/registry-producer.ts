// OTLP metrics read from the same registry /metrics renders: nothing is recorded twice, and the two can never disagree.
import { ValueType, type Attributes, type HrTime } from "@opentelemetry/api";
import { hrTime } from "@opentelemetry/core";
import { AggregationTemporality, DataPointType, type CollectionResult, type DataPoint, type MetricData, type MetricProducer } from "@opentelemetry/sdk-metrics";
import { emptyResource } from "@opentelemetry/resources";
import type { Labels, MetricFamily, Sample } from "../metrics/registry.ts";

/** Prometheus label names as OpenTelemetry's conventional attribute names. */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  route: "http.route",
  method: "http.request.method",
  status: "http.response.status_code",
  reason: "error.type",
  state: "limedb.member.state",
  backend: "limedb.store.backend",
  operation: "limedb.store.operation",
  op: "limedb.peer.op",
};

/** limedb_http_request_duration_seconds → limedb.http.request.duration in s; limedb_peer_calls_total → limedb.peer.calls. */
export function otelName(family: string): { name: string; unit: string } {
  const unit = family.endsWith("_seconds") ? "s" : "";
  return { name: family.replace(/_total$/, "").replace(/_seconds$/, "").replaceAll("_", "."), unit };
}

function attributesOf(labels: Labels): Attributes {
  // The conventions make a status code an integer; every other label stays text.
  return Object.fromEntries(Object.entries(labels).map(([name, value]) => [ATTRIBUTE_NAMES[name] ?? name, name === "status" ? Number(value) : value]));
}

interface HistogramSeries {
  readonly labels: Labels;
  readonly boundaries: number[];
  readonly cumulative: number[];
  sum: number;
  count: number;
}

/** Prometheus histogram samples (cumulative buckets by `le`, then _sum and _count) back into one series per label set. */
function histogramSeries(family: MetricFamily): HistogramSeries[] {
  const series = new Map<string, HistogramSeries>();
  const seriesOf = (sample: Sample) => {
    const { le: _le, ...labels } = sample.labels;
    const key = JSON.stringify(labels);
    let found = series.get(key);
    if (found === undefined) {
      found = { labels, boundaries: [], cumulative: [], sum: 0, count: 0 };
      series.set(key, found);
    }
    return found;
  };
  for (const sample of family.samples) {
    const found = seriesOf(sample);
    if (sample.name.endsWith("_bucket")) {
      if (sample.labels.le !== "+Inf") found.boundaries.push(Number(sample.labels.le));
      found.cumulative.push(sample.value);
    } else if (sample.name.endsWith("_sum")) found.sum = sample.value;
    else if (sample.name.endsWith("_count")) found.count = sample.value;
  }
  return [...series.values()];
}

function metricData(family: MetricFamily, startTime: HrTime, endTime: HrTime): MetricData {
  const { name, unit } = otelName(family.name);
  const descriptor = { name, description: family.help, unit, valueType: ValueType.DOUBLE };
  const aggregationTemporality = AggregationTemporality.CUMULATIVE;
  if (family.type === "histogram") {
    const dataPoints = histogramSeries(family).map(({ labels, boundaries, cumulative, sum, count }) => ({
      startTime,
      endTime,
      attributes: attributesOf(labels),
      value: { buckets: { boundaries, counts: cumulative.map((total, i) => total - (cumulative[i - 1] ?? 0)) }, sum, count },
    }));
    return { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints };
  }
  const dataPoints: DataPoint<number>[] = family.samples.map((sample) => ({ startTime, endTime, attributes: attributesOf(sample.labels), value: sample.value }));
  return family.type === "counter"
    ? { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, dataPoints, isMonotonic: true }
    : { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints };
}

/**
 * A producer for the SDK's metric reader: at each export it reads the families, so a request pays
 * nothing for OTLP metrics. Counts are cumulative since `startTime`, as the registry's are.
 */
export function registryProducer(scope: { name: string; version: string }, families: () => readonly MetricFamily[] | undefined): MetricProducer {
  const startTime = hrTime();
  return {
    async collect(): Promise<CollectionResult> {
      const endTime = hrTime();
      const metrics = (families() ?? []).map((family) => metricData(family, startTime, endTime));
      // The reader puts these under its own resource; the empty one here is never sent.
      return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope, metrics }] }, errors: [] };
    },
  };
}
