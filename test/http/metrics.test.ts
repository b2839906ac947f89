// GET /metrics in-process: the request counter matches the requests made, by route template, never by key.
import { expect, test } from "bun:test";
import { METRICS_CONTENT_TYPE } from "../../src/metrics/text-format.ts";
import { UNMATCHED_ROUTE } from "../../src/metrics/node-metrics.ts";
import { buildTestApp } from "../support/app.ts";
import { checkHistograms, parsePrometheusText, select } from "../support/prometheus-text.ts";
import { until } from "../support/until.ts";

/** Distinctive enough that finding it anywhere in the output means a raw path leaked into a label. */
const KEY = "leaky-key-zq9x";
const MISSING_KEY = "missing-key-zq9x";
const UNKNOWN_PATH = "/no/such/route-zq9x";

test("after known requests the counters match them exactly, by route template and status", async () => {
  const { client, metrics } = buildTestApp();
  const made: { route: string; method: string; status: string; response: Response }[] = [];
  const record = async (route: string, method: string, status: string, response: Promise<Response>) => made.push({ route, method, status, response: await response });

  await record("/api/v1/set", "POST", "200", client.set(KEY, "one"));
  await record("/api/v1/set", "POST", "200", client.set(`${KEY}-2`, "two"));
  await record("/api/v1/get/:key", "GET", "200", client.get(KEY));
  await record("/api/v1/get/:key", "GET", "200", client.get(`${KEY}-2`));
  await record("/api/v1/get/:key", "GET", "404", client.get(MISSING_KEY));
  await record("/api/v1/set", "POST", "400", client.path("/api/v1/set", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: KEY }) }));
  await record("/api/v1/del/:key", "DELETE", "200", client.del(KEY));
  await record("/api/v1/health", "GET", "200", client.path("/api/v1/health"));
  await record(UNMATCHED_ROUTE, "GET", "404", client.path(UNKNOWN_PATH));
  await record(UNMATCHED_ROUTE, "PUT", "405", client.path("/api/v1/set", { method: "PUT" }));
  for (const { status, response } of made) expect(String(response.status)).toBe(status);

  // The counting hook runs after each response is sent, so wait (boundedly) for it to catch up.
  const counted = () => metrics.requests.collect().samples.reduce((sum, sample) => sum + sample.value, 0);
  await until("every request is counted", () => counted() === made.length);

  const response = await client.path("/metrics");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe(METRICS_CONTENT_TYPE);
  const text = await response.text();
  const samples = parsePrometheusText(text);

  const expected = new Map<string, number>();
  for (const { route, method, status } of made) {
    const key = JSON.stringify({ route, method, status });
    expected.set(key, (expected.get(key) ?? 0) + 1);
  }
  const actual = new Map(select(samples, "limedb_http_requests_total").map((sample) => [JSON.stringify(sample.labels), sample.value]));
  expect(actual).toEqual(expected);

  for (const leaked of [KEY, MISSING_KEY, UNKNOWN_PATH]) expect(text).not.toContain(leaked);

  checkHistograms(samples, "limedb_http_request_duration_seconds");
  for (const { route, method, status } of made) {
    const requests = made.filter((other) => other.route === route && other.method === method && other.status === status).length;
    expect(select(samples, "limedb_http_request_duration_seconds_count", { route, method, status }).map((sample) => sample.value)).toEqual([requests]);
  }
});

test("scrapes count as requests too, on the next scrape", async () => {
  const { client, metrics } = buildTestApp();
  await client.path("/metrics");
  await until("the first scrape is counted", () => metrics.requests.value({ route: "/metrics", method: "GET", status: "200" }) === 1);
  const samples = parsePrometheusText(await (await client.path("/metrics")).text());
  expect(select(samples, "limedb_http_requests_total", { route: "/metrics" })[0]?.value).toBe(1);
});

test("store operations are timed by backend and operation", async () => {
  const { client } = buildTestApp();
  await client.set("a", "1");
  await client.get("a");
  const samples = parsePrometheusText(await (await client.path("/metrics")).text());
  checkHistograms(samples, "limedb_store_operation_duration_seconds");
  expect(select(samples, "limedb_store_operation_duration_seconds_count", { backend: "memory", operation: "put" })[0]?.value).toBeGreaterThanOrEqual(1);
  expect(select(samples, "limedb_store_operation_duration_seconds_count", { backend: "memory", operation: "get" })[0]?.value).toBeGreaterThanOrEqual(1);
});

test("cluster figures are read at scrape time", async () => {
  const { client, hints } = buildTestApp({ ringNodes: ["http://127.0.0.1:7001", "http://127.0.0.1:7002"] });
  // The other member never answers in-process, so its copy of this write waits here as a hint.
  await client.set("k", "v");
  await until("the write to the down replica is hinted", () => hints.count() === 1);
  const samples = parsePrometheusText(await (await client.path("/metrics")).text());
  expect(select(samples, "limedb_members", { state: "active" })[0]?.value).toBe(2);
  expect(select(samples, "limedb_members", { state: "dead" })[0]?.value).toBe(0);
  expect(select(samples, "limedb_hint_backlog")[0]?.value).toBe(1);
  expect(select(samples, "limedb_gossip_rounds_total")[0]?.value).toBe(0);
  expect(select(samples, "limedb_rebalance_streamed_total")[0]?.value).toBe(0);
  expect(select(samples, "limedb_read_repairs_total")[0]?.value).toBe(0);
});
