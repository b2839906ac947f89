// The live charts' figures: each member's /metrics read every refresh, turned into requests per second and
// p50/p99 latency between two reads (as Prometheus's rate and histogram_quantile would), kept with the
// member's key count for the last minutes.

/** How far back the charts reach. */
export const LIVE_WINDOW_MS = 5 * 60_000;
/** Points kept per member at most, whatever the refresh interval (a 250 ms refresh fills 5 minutes with 1,200). */
export const LIVE_POINTS_MAX = 1_200;
/** Members charted at most; a cluster larger than this shows its first ones by URL. */
export const LIVE_NODES_MAX = 32;
/** The figures text parsed at most, in characters (the client reads at most METRICS_ANSWER_BYTES_MAX of it anyway). */
export const METRICS_TEXT_CHARS_MAX = 4 * 1024 * 1024;

const REQUESTS = "limedb_http_requests_total";
const DURATION_BUCKET = "limedb_http_request_duration_seconds_bucket";
/** Reading the figures is the charts' own traffic, not the node's work: left out of both. */
const UNCOUNTED_ROUTES: ReadonlySet<string> = new Set(["/metrics"]);

/** One read of a member's figures, summed over routes (but /metrics) and statuses. */
export interface Scrape {
  readonly atMs: number;
  /** HTTP requests answered since the node started. */
  readonly requests: number;
  /** Cumulative latency histogram: requests answered within each bound, in seconds, sorted, +Inf last. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
}

/** A member's figures at one refresh; null where they are not known (the first read, a failed one, a restart). */
export interface LivePoint {
  readonly atMs: number;
  readonly requestsPerS: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly keys: number | null;
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function labelsOf(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const match of text.matchAll(LABEL)) labels.set(match[1]!, match[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c)));
  return labels;
}

/** The request counter and latency histogram of one /metrics text; undefined when it has neither (not a LimeDB node). */
export function parseScrape(text: string, atMs: number): Scrape | undefined {
  if (text.length > METRICS_TEXT_CHARS_MAX) return undefined;
  let requests = 0;
  let seen = false;
  const buckets = new Map<number, number>();
  for (const line of text.split("\n")) {
    // A node that has answered nothing yet still declares the family.
    if (line === `# TYPE ${REQUESTS} counter`) seen = true;
    const family = line.startsWith(`${REQUESTS}{`) ? REQUESTS : line.startsWith(`${DURATION_BUCKET}{`) ? DURATION_BUCKET : undefined;
    if (family === undefined) continue;
    const close = line.lastIndexOf("}");
    const value = Number(line.slice(close + 1).trim().split(" ")[0]);
    if (close < 0 || !Number.isFinite(value)) continue;
    const labels = labelsOf(line.slice(family.length + 1, close));
    if (UNCOUNTED_ROUTES.has(labels.get("route") ?? "")) continue;
    seen = true;
    if (family === REQUESTS) {
      requests += value;
      continue;
    }
    const le = labels.get("le") === "+Inf" ? Number.POSITIVE_INFINITY : Number(labels.get("le"));
    if (!Number.isNaN(le)) buckets.set(le, (buckets.get(le) ?? 0) + value);
  }
  if (!seen) return undefined;
  return { atMs, requests, buckets: [...buckets].sort(([a], [b]) => a - b).map(([le, count]) => ({ le, count })) };
}

/**
 * The q-quantile of the requests answered between two reads, in ms, interpolated linearly within its bucket
 * (histogram_quantile's rule); past the last finite bound it is that bound. Null when none were answered.
 */
export function quantileMs(q: number, before: Scrape, after: Scrape): number | null {
  const counts = after.buckets.map(({ le, count }) => ({ le, count: count - (before.buckets.find((b) => b.le === le)?.count ?? 0) }));
  const total = counts.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const { le, count } of counts) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lower * 1000;
      const within = count - below;
      return (lower + (le - lower) * (within <= 0 ? 1 : (rank - below) / within)) * 1000;
    }
    lower = le === Number.POSITIVE_INFINITY ? lower : le;
    below = count;
  }
  return lower * 1000;
}

/** The figures between two reads of one member; nulls when the node restarted in between (its counters began again). */
export function pointBetween(before: Scrape | undefined, after: Scrape | undefined, keys: number | null, atMs: number): LivePoint {
  const unknown = { atMs, requestsPerS: null, p50Ms: null, p99Ms: null, keys };
  if (before === undefined || after === undefined || after.requests < before.requests || after.atMs <= before.atMs) return unknown;
  return {
    atMs,
    requestsPerS: ((after.requests - before.requests) * 1000) / (after.atMs - before.atMs),
    p50Ms: quantileMs(0.5, before, after),
    p99Ms: quantileMs(0.99, before, after),
    keys,
  };
}

/** What one refresh read of a member: its figures (undefined when the read failed) and key count (null when unknown). */
export interface MemberReading {
  readonly scrape: Scrape | undefined;
  readonly keys: number | null;
}

/** Every member's points over the last LIVE_WINDOW_MS, and each one's last read to take the next point from. */
export class LiveHistory {
  private readonly points = new Map<string, LivePoint[]>();
  private readonly last = new Map<string, Scrape>();

  /** Adds one refresh: a point per member read; members no longer listed are forgotten. */
  record(atMs: number, readings: ReadonlyMap<string, MemberReading>): void {
    const members = [...readings.keys()].sort().slice(0, LIVE_NODES_MAX);
    for (const url of [...this.points.keys()]) {
      if (!members.includes(url)) {
        this.points.delete(url);
        this.last.delete(url);
      }
    }
    for (const url of members) {
      const reading = readings.get(url)!;
      const series = this.points.get(url) ?? [];
      series.push(pointBetween(this.last.get(url), reading.scrape, reading.keys, atMs));
      // Old points go from the front: the window, then the count bound.
      const keepFrom = series.findIndex((point) => point.atMs >= atMs - LIVE_WINDOW_MS);
      series.splice(0, Math.max(keepFrom < 0 ? series.length : keepFrom, series.length - LIVE_POINTS_MAX));
      this.points.set(url, series);
      if (reading.scrape === undefined) this.last.delete(url);
      else this.last.set(url, reading.scrape);
    }
  }

  /** Each member's points, oldest first. */
  series(): ReadonlyMap<string, readonly LivePoint[]> {
    return this.points;
  }
}
