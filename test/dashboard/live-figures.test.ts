// The live charts' figures from /metrics text as a node renders it: requests/s and p50/p99 between two reads,
// restarts, failed reads, and the history's bounds.
import { describe, expect, test } from "bun:test";
import { LIVE_POINTS_MAX, LIVE_WINDOW_MS, LiveHistory, type MemberReading, parseScrape, pointBetween, quantileMs, type Scrape } from "../../src/dashboard/live-figures.ts";
import { NodeMetrics } from "../../src/metrics/node-metrics.ts";

const FIGURES = { membersByState: { active: 1 }, hintBacklog: 0, gossipRounds: 0, rebalanceStreamed: 0, readRepairs: 0, majority: true, unreachablePeers: 0 };
const A = "http://127.0.0.1:7001";
const B = "http://127.0.0.1:7002";

/** What the node's /metrics says after the given requests (route, status, ms each). */
function render(metrics: NodeMetrics, requests: readonly [string, number, number][]): string {
  for (const [route, status, ms] of requests) metrics.recordRequest(route, "GET", status, ms);
  return metrics.render(FIGURES);
}

const scrape = (text: string, atMs: number): Scrape => {
  const parsed = parseScrape(text, atMs);
  if (parsed === undefined) throw new Error("not parsed");
  return parsed;
};

describe("reading a node's figures", () => {
  test("sums requests over routes and statuses, but not /metrics itself", () => {
    const metrics = new NodeMetrics();
    const text = render(metrics, [
      ["/api/v1/get/:key", 200, 1],
      ["/api/v1/get/:key", 404, 1],
      ["/api/v1/set", 200, 3],
      ["/metrics", 200, 50],
    ]);
    const parsed = scrape(text, 0);
    expect(parsed.requests).toBe(3);
    expect(parsed.buckets.at(-1)).toEqual({ le: Number.POSITIVE_INFINITY, count: 3 });
    expect(parsed.buckets.map((b) => b.le)).toEqual([...parsed.buckets.map((b) => b.le)].sort((x, y) => x - y));
  });

  test("a text without LimeDB's request figures is not a reading", () => {
    expect(parseScrape("# HELP other\nother_total 5\n", 0)).toBeUndefined();
    expect(parseScrape("<html>not figures</html>", 0)).toBeUndefined();
  });

  test("a route label with escaped quotes does not confuse the labels", () => {
    const text = 'limedb_http_requests_total{route="/a\\"b",method="GET",status="200"} 7\nlimedb_http_request_duration_seconds_bucket{route="/a\\"b",method="GET",status="200",le="+Inf"} 7\n';
    expect(scrape(text, 0)).toEqual({ atMs: 0, requests: 7, buckets: [{ le: Number.POSITIVE_INFINITY, count: 7 }] });
  });
});

describe("figures between two reads", () => {
  test("requests per second and p50/p99 of the requests in between only", () => {
    const metrics = new NodeMetrics();
    // Before: 100 slow requests (400 ms) that must not count in the next interval's latency.
    const before = scrape(render(metrics, Array.from({ length: 100 }, () => ["/api/v1/set", 200, 400] as [string, number, number])), 10_000);
    // Then 2 s with 990 fast ones (0.3 ms) and 10 slow ones (40 ms).
    const fast = Array.from({ length: 990 }, () => ["/api/v1/get/:key", 200, 0.3] as [string, number, number]);
    const slow = Array.from({ length: 10 }, () => ["/api/v1/get/:key", 200, 40] as [string, number, number]);
    const after = scrape(render(metrics, [...fast, ...slow]), 12_000);
    const point = pointBetween(before, after, 42, 12_000);
    expect(point.requestsPerS).toBe(500);
    expect(point.keys).toBe(42);
    // 0.3 ms lies in the (0.1, 0.5] ms bucket, which holds 990 of the 1,000: the p50 (rank 500) is interpolated
    // within it, the p99 (rank 990) is its upper bound; no 400 ms request from before counts.
    expect(point.p50Ms).toBeCloseTo(0.1 + (0.4 * 500) / 990, 6);
    expect(point.p99Ms).toBeCloseTo(0.5, 6);
    const withSlow = pointBetween(before, scrape(render(metrics, Array.from({ length: 100 }, () => ["/api/v1/get/:key", 200, 40] as [string, number, number])), 13_000), 42, 13_000);
    // Now 1,100 requests after `before`, 110 of them at 40 ms: the p99 lies in the (25, 50] ms bucket.
    expect(withSlow.p99Ms).toBeGreaterThan(25);
    expect(withSlow.p99Ms).toBeLessThanOrEqual(50);
  });

  test("no requests in between: a rate of 0 and no latency", () => {
    const metrics = new NodeMetrics();
    const text = render(metrics, [["/api/v1/set", 200, 1]]);
    expect(pointBetween(scrape(text, 0), scrape(text, 1_000), 1, 1_000)).toEqual({ atMs: 1_000, requestsPerS: 0, p50Ms: null, p99Ms: null, keys: 1 });
  });

  test("a restart (counters began again), a first read or a failed one give no figures, only the key count", () => {
    const busy = scrape(render(new NodeMetrics(), [["/api/v1/set", 200, 1], ["/api/v1/set", 200, 1]]), 0);
    const restarted = scrape(render(new NodeMetrics(), [["/api/v1/set", 200, 1]]), 1_000);
    const unknown = { atMs: 1_000, requestsPerS: null, p50Ms: null, p99Ms: null, keys: 5 };
    expect(pointBetween(busy, restarted, 5, 1_000)).toEqual(unknown);
    expect(pointBetween(undefined, restarted, 5, 1_000)).toEqual(unknown);
    expect(pointBetween(busy, undefined, 5, 1_000)).toEqual(unknown);
  });

  test("a quantile past the last finite bound is that bound", () => {
    const metrics = new NodeMetrics();
    const before = scrape(render(metrics, []), 0);
    const after = scrape(render(metrics, [["/api/v1/set", 200, 60_000]]), 1_000);
    expect(quantileMs(0.99, before, after)).toBe(10_000);
  });
});

describe("the history", () => {
  const reading = (requests: number, keys: number | null, atMs: number): MemberReading => ({
    scrape: { atMs, requests, buckets: [{ le: Number.POSITIVE_INFINITY, count: requests }] },
    keys,
  });

  test("one point per member per refresh, the rate from the member's own previous read", () => {
    const history = new LiveHistory();
    history.record(0, new Map([[A, reading(0, 1, 0)], [B, reading(100, 2, 0)]]));
    history.record(1_000, new Map([[A, reading(50, 1, 1_000)], [B, reading(300, 2, 1_000)]]));
    expect(history.series().get(A)?.map((p) => p.requestsPerS)).toEqual([null, 50]);
    expect(history.series().get(B)?.map((p) => p.requestsPerS)).toEqual([null, 200]);
  });

  test("a failed read leaves a gap, and the next read starts again from itself", () => {
    const history = new LiveHistory();
    history.record(0, new Map([[A, reading(0, 1, 0)]]));
    history.record(1_000, new Map([[A, { scrape: undefined, keys: null }]]));
    history.record(2_000, new Map([[A, reading(500, 1, 2_000)]]));
    history.record(3_000, new Map([[A, reading(600, 1, 3_000)]]));
    expect(history.series().get(A)?.map((p) => p.requestsPerS)).toEqual([null, null, null, 100]);
  });

  test("keeps the last five minutes, at most LIVE_POINTS_MAX points, and forgets members no longer listed", () => {
    const history = new LiveHistory();
    const stepMs = 100;
    const steps = LIVE_POINTS_MAX + 500;
    for (let i = 0; i < steps; i++) history.record(i * stepMs, new Map([[A, reading(i, 1, i * stepMs)], ...(i < 10 ? [[B, reading(i, 1, i * stepMs)] as const] : [])]));
    const points = history.series().get(A) ?? [];
    expect(points).toHaveLength(LIVE_POINTS_MAX);
    expect(points.at(-1)?.atMs).toBe((steps - 1) * stepMs);
    expect(history.series().has(B)).toBe(false);

    const sparse = new LiveHistory();
    for (let i = 0; i <= 10; i++) sparse.record(i * 60_000, new Map([[A, reading(i, 1, i * 60_000)]]));
    const kept = sparse.series().get(A) ?? [];
    expect(kept[0]?.atMs).toBe(10 * 60_000 - LIVE_WINDOW_MS);
    expect(kept).toHaveLength(6);
  });
});
