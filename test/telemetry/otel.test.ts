// OpenTelemetry across real node processes: one trace per client request over the nodes it touches, metrics over OTLP.
import { describe, expect, test } from "bun:test";
import {
  CLUSTER_TEST_TIMEOUT_MS,
  expectedRing,
  fetchNode,
  keyOwnedBy,
  ONE_COPY,
  startCluster,
  waitForAgreement,
  waitUntil,
} from "../support/cluster.ts";
import { freePort } from "../support/free-port.ts";
import { startNode } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";
import { OtlpReceiver, SPAN_KIND, type ReceivedPoint, type ReceivedSpan } from "../support/otlp-receiver.ts";

/** Exports this often, so a test sees its spans within a fraction of a second. */
const EXPORT_INTERVAL_MS = 100;
/** Bound on waiting for something that should arrive within a few export intervals. */
const WAIT_MAX_MS = 15_000;
/** Characters that must never reach a span name or a label: the key is the one thing telemetry may not show. */
const KEY_PREFIX = "tele/métry key ";

function spanOf(spans: readonly ReceivedSpan[], match: Partial<ReceivedSpan>): ReceivedSpan | undefined {
  return spans.find((span) => Object.entries(match).every(([field, value]) => span[field as keyof ReceivedSpan] === value));
}

/** No export carries the key, neither as written nor as it appears in a URL. */
function expectNoKey(receiver: OtlpReceiver, key: string): void {
  const exported = receiver.bodies.join("\n");
  for (const form of [key, encodeURIComponent(key), KEY_PREFIX.trim()]) expect(exported).not.toContain(form);
}

function pointOf(points: readonly ReceivedPoint[], node: string, metric: string, attributes: Record<string, string>): ReceivedPoint | undefined {
  // Exports are cumulative, so the latest point of a series carries its whole count.
  return points.findLast((point) => point.node === node && point.metric === metric && Object.entries(attributes).every(([key, value]) => point.attributes[key] === value));
}

describe("with OTEL_ENDPOINT set", () => {
  test(
    "a forwarded write is one trace whose route-named spans come from both nodes, and its request metrics reach the collector",
    async () => {
      await using receiver = new OtlpReceiver();
      await using cluster = await startCluster({
        size: 3,
        args: [...ONE_COPY, "-otel.export-interval-ms", String(EXPORT_INTERVAL_MS)],
        env: { OTEL_ENDPOINT: receiver.url },
      });
      const urls = cluster.urls;
      await waitForAgreement(urls, urls, WAIT_MAX_MS);
      const entry = cluster.node(0).url;
      const owner = urls.find((url) => url !== entry)!;
      const key = keyOwnedBy(await expectedRing(urls), owner, KEY_PREFIX);

      const set = await fetchNode(`${entry}/api/v1/set`, { method: "POST", body: JSON.stringify({ key, value: "v" }), headers: { "content-type": "application/json" } });
      expect(set.status).toBe(200);

      // The entry node's server span for the SET is the root; the owner's span for the replica write descends from it.
      const { value: trace } = await waitUntil(
        "the SET's trace with the owner's span in it",
        async () => {
          const root = spanOf(receiver.spans, { node: entry, name: "POST /api/v1/set", kind: SPAN_KIND.server });
          return root === undefined ? [] : receiver.spans.filter((span) => span.traceId === root.traceId);
        },
        (spans) => spans.some((span) => span.node === owner && span.kind === SPAN_KIND.server),
        WAIT_MAX_MS,
      );
      const root = spanOf(trace, { node: entry, kind: SPAN_KIND.server })!;
      expect(root.parentSpanId).toBe("");
      expect(root.attributes["http.route"]).toBe("/api/v1/set");
      expect(root.attributes["http.response.status_code"]).toBe("200");
      const client = spanOf(trace, { node: entry, kind: SPAN_KIND.client })!;
      // The coordinator hands the write to its one replica, the owner, through the replica route.
      expect(client).toMatchObject({ name: "peer put", parentSpanId: root.spanId });
      expect(client.attributes["server.address"]).toBe(owner);
      const served = spanOf(trace, { node: owner, kind: SPAN_KIND.server })!;
      expect(served).toMatchObject({ name: "peer put", parentSpanId: client.spanId });
      expect(new Set(trace.map((span) => span.node))).toEqual(new Set([entry, owner]));
      // Nothing else joined the request's trace: background work it woke starts traces of its own.
      expect(trace).toHaveLength(3);
      expectNoKey(receiver, key);

      // A caller's own traceparent is continued: its trace id reaches both nodes.
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      const get = await fetchNode(`${entry}/api/v1/get/${encodeURIComponent(key)}`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
      expect(get.status).toBe(200);
      const { value: continued } = await waitUntil(
        "the GET's spans under the caller's trace id",
        async () => receiver.spans.filter((span) => span.traceId === traceId),
        // Each node exports on its own schedule, so either may arrive first.
        (spans) => [entry, owner].every((node) => spans.some((span) => span.node === node && span.kind === SPAN_KIND.server)),
        WAIT_MAX_MS,
      );
      expect(spanOf(continued, { node: entry, kind: SPAN_KIND.server })).toMatchObject({ name: "GET /api/v1/get/:key", parentSpanId: "00f067aa0ba902b7" });
      expect(spanOf(continued, { node: owner, kind: SPAN_KIND.server })?.name).toBe("peer get");

      // Gossip carries trace context too: some node's /gossip span is the child of another node's call.
      await waitUntil(
        "a gossip span whose parent is another node's call",
        async () =>
          receiver.spans.filter((served) => {
            if (served.name !== "peer gossip" || served.kind !== SPAN_KIND.server) return false;
            const caller = receiver.spans.find((span) => span.spanId === served.parentSpanId && span.traceId === served.traceId);
            return caller?.kind === SPAN_KIND.client && caller.name === "peer gossip" && caller.node !== served.node;
          }).length,
        (linked) => linked > 0,
        WAIT_MAX_MS,
      );

      // Request metrics: the SET counted at the entry node by route and status, the replica write at the owner, the forward between them.
      await waitUntil(
        "request and forward metrics for the SET",
        async () => ({
          set: pointOf(receiver.points, entry, "limedb.http.requests", { "http.route": "/api/v1/set", "http.response.status_code": "200" })?.value,
          direct: pointOf(receiver.points, owner, "limedb.peer.calls.served", { "limedb.peer.op": "put", outcome: "ok" })?.value,
          forwards: pointOf(receiver.points, entry, "limedb.peer.calls", { "limedb.peer.op": "put" })?.value,
          latency: pointOf(receiver.points, entry, "limedb.http.request.duration", { "http.route": "/api/v1/set", "http.response.status_code": "200" })?.value,
          members: pointOf(receiver.points, entry, "limedb.members", { "limedb.member.state": "active" })?.value,
        }),
        (seen) => seen.set === 1 && seen.direct === 1 && seen.forwards === 1 && seen.latency === 1 && seen.members === 3,
        WAIT_MAX_MS,
      );
      expect(receiver.points.some((point) => point.metric === "limedb.gossip.rounds" && point.value > 0)).toBe(true);
      expect(receiver.points.some((point) => point.metric === "limedb.store.operation.duration" && point.attributes["limedb.store.backend"] === "memory")).toBe(true);
      expectNoKey(receiver, key);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});

describe("OTEL_SAMPLE_RATIO", () => {
  test(
    "at 0 a node records no trace of its own, still follows a caller's sampled traceparent, and still exports every request's metrics",
    async () => {
      await using receiver = new OtlpReceiver();
      await using dir = await tempDir("limedb-otel-");
      await using node = await startNode({
        dataDir: dir.path,
        backend: "memory",
        args: ["-otel.export-interval-ms", String(EXPORT_INTERVAL_MS), "-otel.sample-ratio", "0"],
        env: { OTEL_ENDPOINT: receiver.url },
      });
      const UNTRACED = 20;
      for (let i = 0; i < UNTRACED; i++) expect((await fetchNode(`${node.url}/api/v1/get/k${i}`)).status).toBe(404);
      const traceId = "0af7651916cd43dd8448eb211c80319c";
      expect((await fetchNode(`${node.url}/api/v1/get/k`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } })).status).toBe(404);
      await waitUntil(
        "every GET counted and the caller's span exported",
        async () => ({
          counted: pointOf(receiver.points, node.url, "limedb.http.requests", { "http.route": "/api/v1/get/:key", "http.response.status_code": "404" })?.value,
          traced: receiver.spans.some((span) => span.traceId === traceId),
        }),
        (seen) => seen.counted === UNTRACED + 1 && seen.traced,
        WAIT_MAX_MS,
      );
      // Spans of one node leave in order, so the caller's span having arrived means none of the others was recorded.
      expect(receiver.spans.filter((span) => span.name === "GET /api/v1/get/:key").map((span) => span.traceId)).toEqual([traceId]);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});

/** A collector that accepts connections and never answers: the worst a collector can do to a node. */
function hungCollector() {
  const connections: { closed: boolean }[] = [];
  const listener = Bun.listen<{ closed: boolean }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { closed: false };
        connections.push(socket.data);
      },
      data() {},
      close(socket) {
        socket.data.closed = true;
      },
    },
  });
  return {
    url: `http://127.0.0.1:${listener.port}`,
    connections,
    [Symbol.dispose]: () => listener.stop(true),
  };
}

/** SETs then GETs `count` keys one at a time; each must answer as it would without telemetry. */
async function setAndGet(url: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const set = await fetchNode(`${url}/api/v1/set`, { method: "POST", body: JSON.stringify({ key: `k${i}`, value: `v${i}` }), headers: { "content-type": "application/json" } });
    expect(await set.text()).toBe("OK");
  }
  for (let i = 0; i < count; i++) {
    const get = await fetchNode(`${url}/api/v1/get/k${i}`);
    expect(((await get.json()) as { value: string }).value).toBe(`v${i}`);
  }
}

const REQUESTS = 50;

describe("a collector that is down never breaks or holds up a request", () => {
  test(
    "with OTEL_ENDPOINT at a closed port every request succeeds and the failed exports are logged once, as a warning",
    async () => {
      await using dir = await tempDir("limedb-otel-");
      const closedPort = freePort();
      await using node = await startNode({ dataDir: dir.path, backend: "memory", args: ["-otel.export-interval-ms", String(EXPORT_INTERVAL_MS)], env: { OTEL_ENDPOINT: `http://127.0.0.1:${closedPort}` } });
      const warnings = () => node.stdout.split("\n").filter((line) => line.includes('"telemetry export failed"'));
      await waitUntil("a warning about the failed export", async () => warnings().length, (count) => count > 0, WAIT_MAX_MS);
      await setAndGet(node.url, REQUESTS);
      // Dozens of exports have failed by now; a collector that stays down is reported once a minute, not once per export.
      expect(warnings()).toHaveLength(1);
      expect(JSON.parse(warnings()[0]!)).toMatchObject({ level: "warn", node: node.url, endpoint: `http://127.0.0.1:${closedPort}/` });
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "with a collector that accepts and never answers, requests are served while an export hangs",
    async () => {
      await using dir = await tempDir("limedb-otel-");
      using collector = hungCollector();
      await using node = await startNode({ dataDir: dir.path, backend: "memory", args: ["-otel.export-interval-ms", String(EXPORT_INTERVAL_MS)], env: { OTEL_ENDPOINT: collector.url } });
      await waitUntil("an export waiting on the collector", async () => collector.connections.length, (count) => count > 0, WAIT_MAX_MS);
      const hanging = collector.connections[0]!;
      await setAndGet(node.url, REQUESTS);
      // The export that was waiting before the first request is waiting still (it gives up after 10 s):
      // every request above was answered while it hung, none waited for it.
      expect(hanging.closed).toBe(false);
      expect((await fetchNode(`${node.url}/api/v1/health`)).status).toBe(200);
      // The export that gave up waiting is reported, as a warning naming the timeout.
      const { value: warning } = await waitUntil(
        "a warning about the hung export",
        async () => node.stdout.split("\n").find((line) => line.includes('"telemetry export failed"')),
        (line) => line !== undefined,
        WAIT_MAX_MS,
      );
      expect(JSON.parse(warning!)).toMatchObject({ level: "warn", endpoint: `${collector.url}/` });
      expect(JSON.parse(warning!).error).toContain("timed out");
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
