// The metrics registry: counters and histograms with labels, kept in memory and read whole at scrape time.

/** Distinct label sets one metric keeps; past it new series are dropped, so a label bug cannot eat the heap. */
export const SERIES_MAX = 1000;

/** Latency bucket upper bounds in seconds (Prometheus's unit of time): from a memory-store hit to a call that times out. */
export const LATENCY_BUCKETS_S: readonly number[] = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What `bind` gives for a series past SERIES_MAX: counting into nothing. */
const DROPPED = () => undefined;

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  /** The sample's full name: the family name, or it plus _bucket, _sum or _count for a histogram. */
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly samples: readonly Sample[];
}

/** Labels in the declared order, so one label set is always one series whatever order the caller wrote. */
function seriesKey(labelNames: readonly string[], labels: Labels): string {
  return JSON.stringify(labelNames.map((name) => labels[name] ?? ""));
}

function pick(labelNames: readonly string[], labels: Labels): Labels {
  return Object.fromEntries(labelNames.map((name) => [name, labels[name] ?? ""]));
}

export class Counter {
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`counter ${this.name} can only go up, not by ${by}`);
    const key = seriesKey(this.labelNames, labels);
    const found = this.series.get(key);
    if (found !== undefined) {
      found.value += by;
      return;
    }
    if (this.series.size >= SERIES_MAX) return;
    this.series.set(key, { labels: pick(this.labelNames, labels), value: by });
  }

  /** The series of `labels` as a function that adds `by` (one when left out): for hot paths, which then pay no key per call. */
  bind(labels: Labels): (by?: number) => void {
    const key = seriesKey(this.labelNames, labels);
    let found = this.series.get(key);
    if (found === undefined) {
      if (this.series.size >= SERIES_MAX) return DROPPED;
      found = { labels: pick(this.labelNames, labels), value: 0 };
      this.series.set(key, found);
    }
    const series = found;
    return (by = 1) => void (series.value += by);
  }

  value(labels: Labels = {}): number {
    return this.series.get(seriesKey(this.labelNames, labels))?.value ?? 0;
  }

  collect(): MetricFamily {
    const samples = [...this.series.values()].map(({ labels, value }) => ({ name: this.name, labels, value }));
    return { name: this.name, help: this.help, type: "counter", samples };
  }
}

interface HistogramSeries {
  readonly labels: Labels;
  /** Per-bucket counts, not cumulative; one more than the bounds for +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class Histogram {
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly bounds: readonly number[] = LATENCY_BUCKETS_S,
  ) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new Error(`histogram ${name} bounds must increase`);
    }
  }

  observe(labels: Labels, value: number): void {
    this.bind(labels)(value);
  }

  /**
   * The series of `labels` as a function that records a value (`times` over: the items of one merged call, each
   * with the call's time): for hot paths, which then pay no key per call.
   */
  bind(labels: Labels): (value: number, times?: number) => void {
    const key = seriesKey(this.labelNames, labels);
    let found = this.series.get(key);
    if (found === undefined) {
      if (this.series.size >= SERIES_MAX) return DROPPED;
      found = { labels: pick(this.labelNames, labels), counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, found);
    }
    const series = found;
    const bounds = this.bounds;
    return (value, times = 1) => {
      let slot = 0;
      while (slot < bounds.length && value > bounds[slot]!) slot++;
      series.counts[slot]! += times;
      series.sum += value * times;
      series.count += times;
    };
  }

  collect(): MetricFamily {
    const samples: Sample[] = [];
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += counts[i] ?? 0;
        const le = i < this.bounds.length ? String(this.bounds[i]) : "+Inf";
        samples.push({ name: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative });
      }
      samples.push({ name: `${this.name}_sum`, labels, value: sum });
      samples.push({ name: `${this.name}_count`, labels, value: count });
    }
    return { name: this.name, help: this.help, type: "histogram", samples };
  }
}

/** A gauge is read at scrape time from state another part owns, so it is only ever a family. */
export function gauge(name: string, help: string, samples: readonly { labels?: Labels; value: number }[]): MetricFamily {
  return { name, help, type: "gauge", samples: samples.map(({ labels, value }) => ({ name, labels: labels ?? {}, value })) };
}
