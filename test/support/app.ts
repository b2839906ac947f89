// A standalone node's HTTP app built as src/main.ts builds it, with a memory store and a clock the test moves.
import { START_MS, testClock, type TestClock } from "./clock.ts";
import { createApp } from "../../src/http/app.ts";
import type { RequestTracing } from "../../src/http/request-hooks.ts";
import { HybridClock } from "../../src/node/hlc.ts";
import { Gossiper } from "../../src/membership/gossiper.ts";
import { MemberTable } from "../../src/membership/member-table.ts";
import type { GossipTransport } from "../../src/membership/messages.ts";
import { nodeScan } from "../../src/node/scan.ts";
import { NodeError } from "../../src/node/errors.ts";
import { Background } from "../../src/node/background.ts";
import { HintStore } from "../../src/node/hint-store.ts";
import { LimeNode } from "../../src/node/node.ts";
import { Replication, type ReplicaPeers } from "../../src/node/replication.ts";
import type { Backend } from "../../src/store/backend.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import { clusterFigures, NodeMetrics } from "../../src/metrics/node-metrics.ts";
import { TimedBackend } from "../../src/metrics/timed-backend.ts";

/** Elysia routes only requests with an ordinary host, so every test request goes to http://localhost. */
export const BASE = "http://localhost";
export const NODE_URL = "http://127.0.0.1:7001";
export const VERSION = "0.0.0-test";
export { START_MS, testClock, type TestClock };
export const VALUE_BYTES_MAX = 1024 * 1024;


export interface TestAppOptions {
  readonly clock?: TestClock;
  /** Defaults to a MemoryBackend on the test clock. */
  readonly store?: Backend;
  /** Members of the ring; only NODE_URL by default, as on a standalone node. */
  readonly ringNodes?: readonly string[];
  readonly virtualNodes?: number;
  /** Defaults to peers that are all down. */
  readonly peers?: ReplicaPeers;
  readonly secret?: string;
  /** Copies of each key; 3 by default, as a node runs unless told otherwise. */
  readonly replicationFactor?: number;
  /** Called by POST /api/v1/admin/leave. */
  readonly leave?: () => void;
  /** Server spans, as main passes them with OTEL_ENDPOINT set. */
  readonly tracing?: RequestTracing;
  /** ALLOWED_HOSTS and CORS_ORIGINS; none by default, as a node starts. */
  readonly trust?: { readonly allowedHosts: readonly string[]; readonly corsOrigins: readonly string[] };
}

/** No other node answers in-process: replica calls fail as they would with every peer down. */
const noPeers: ReplicaPeers = {
  putReplica: (target) => Promise.reject(new NodeError("unavailable", `replica ${target} is unreachable`)),
  getReplica: (target) => Promise.reject(new NodeError("unavailable", `replica ${target} is unreachable`)),
  versionOf: (target) => Promise.reject(new NodeError("unavailable", `replica ${target} is unreachable`)),
};

const unreachable: GossipTransport = { syn: async () => undefined, ack2: async () => undefined };

export function buildTestApp(options: TestAppOptions = {}) {
  const clock = options.clock ?? testClock();
  const rawStore = options.store ?? new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: clock.now });
  const metrics = new NodeMetrics();
  // Timed as main times it; on the test clock every duration is exact.
  const store = new TimedBackend(rawStore, metrics, clock.now);
  const members = new MemberTable(NODE_URL, START_MS, clock.now, { staleAfterMs: 3000, deadAfterMs: 5000 });
  // Other ring members are known as gossip would have told of them; nothing in-process answers for them.
  members.apply((options.ringNodes ?? []).filter((url) => url !== NODE_URL).map((nodeUrl) => ({ nodeUrl, generation: 1, heartbeat: 1, leaving: false })));
  const gossiper = new Gossiper({ table: members, transport: unreachable, seeds: [], random: () => 0 });
  const peers = options.peers ?? noPeers;
  const hints = new HintStore(":memory:", clock.now);
  const node = new LimeNode({
    nodeUrl: NODE_URL,
    store,
    members,
    replication: new Replication({ self: NODE_URL, store, peers, hints, timeoutMs: 1000 }),
    vnodesPerNode: options.virtualNodes ?? 256,
    clock: new HybridClock(NODE_URL, clock.now),
    wallClock: clock.now,
    valueBytesMax: VALUE_BYTES_MAX,
    replicationFactor: options.replicationFactor ?? 3,
    writeQuorum: 0,
    readQuorum: 0,
  });
  // Background work is built, as main does, but not started: no loop runs in an in-process test.
  const background = new Background({
    node,
    store,
    hints,
    client: { ...peers, differingGroups: async () => [], differingSegments: async () => [], segmentRecords: async () => ({ records: [], next: undefined }) },
    streamTimeoutMs: 1000,
    antiEntropyIntervalMs: 10_000,
    tombstoneTtlMs: 86_400_000,
    hintForgetAfterMs: 5_000,
    random: () => 0,
    clock: clock.now,
  });
  const internalErrors: unknown[] = [];
  /** The route each internal error was reported with: a template, never a path that could hold a key. */
  const internalRoutes: (string | undefined)[] = [];
  const app = createApp(node, {
    version: VERSION,
    gossip: gossiper,
    replicas: background.replicas,
    scan: nodeScan(node, background.replicas, { segmentRecords: () => Promise.reject(new NodeError("unavailable", "no other node answers in-process")) }, clock.now),
    status: () => background.status(),
    leave: options.leave ?? (() => undefined),
    secret: options.secret ?? "",
    trust: options.trust,
    clock: clock.now,
    onInternalError: (error, _request, route) => {
      internalErrors.push(error);
      internalRoutes.push(route);
    },
    metrics: { metrics, figures: () => clusterFigures(members.list(), background.status(), gossiper.roundCount), nowMs: clock.now },
    tracing: options.tracing,
  });
  return { app, node, store: rawStore, clock, hints, metrics, internalErrors, internalRoutes, client: clientFor((request) => app.handle(request)) };
}

export type Handle = (request: Request) => Promise<Response>;

/** The public API as calls, over whatever answers requests: app.handle in-process, or fetch to a real node. */
export function clientFor(handle: Handle, base = BASE) {
  const api = `${base}/api/v1`;
  return {
    handle,
    set: (key: string, value: string, ttlMs?: number) =>
      handle(new Request(`${api}/set`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key, value, ttlMs }) })),
    get: (key: string) => handle(new Request(`${api}/get/${encodeURIComponent(key)}`)),
    del: (key: string) => handle(new Request(`${api}/del/${encodeURIComponent(key)}`, { method: "DELETE" })),
    keys: (query = "") => handle(new Request(`${api}/keys${query}`)),
    path: (path: string, init?: RequestInit) => handle(new Request(`${base}${path}`, init)),
  };
}

export type Client = ReturnType<typeof clientFor>;

/** Pages allKeys reads at most: 100,000 keys, far more than any test writes, so a paging bug cannot loop forever. */
const LISTING_PAGES_MAX = 1000;

/** Every key in the listing, across all pages, in the order the node gave them. */
export async function allKeys(client: Client): Promise<{ key: string; value: string; size: number }[]> {
  const all: { key: string; value: string; size: number }[] = [];
  for (let page = 1; page <= LISTING_PAGES_MAX; page++) {
    const body = (await (await client.keys(`?page=${page}&pageSize=100`)).json()) as { keys: { key: string; value: string; size: number }[]; totalPages: number };
    all.push(...body.keys);
    if (page >= body.totalPages) return all;
  }
  throw new Error(`the listing still had pages after ${LISTING_PAGES_MAX}`);
}
