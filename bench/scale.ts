// The scale part: three sqlite nodes at RF=3 holding N keys each (100k and 1M), and what their background work costs.
import { Database } from "bun:sqlite";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { VIRTUAL_NODES_DEFAULT } from "../src/config/settings.ts";
import { AntiEntropy } from "../src/node/anti-entropy-loop.ts";
import { HybridClock } from "../src/node/hlc.ts";
import { PeerClient } from "../src/node/peer-client.ts";
import { RECORDS_PER_REQUEST_MAX } from "../src/node/record-wire.ts";
import { ReplicaService } from "../src/node/replica-service.ts";
import { NO_FUTURE_BOUND } from "../src/clock/future-bound.ts";
import { arcsOf } from "../src/ring/arcs.ts";
import { xxHash64 } from "../src/ring/hash.ts";
import { buildRing, replicasOf } from "../src/ring/ring.ts";
import { storePath } from "../src/store/open-backend.ts";
import type { StoredRecord } from "../src/store/record.ts";
import { SqliteBackend, storedRing } from "../src/store/sqlite.ts";
import { tempDir } from "./cleanup.ts";
import { cpuSeconds } from "./process-cpu.ts";
import { clusterState, nodeCommand, nodeUrlOf, pollUntilAll, removeMember, THREE_COPIES, type ClusterState, type NodeSpec } from "./cluster-nodes.ts";
import { againstBaseline, type Figure, type PartResult } from "./figures.ts";
import { freePort, REQUEST_TIMEOUT_MS, spawnServer, waitReady, type SpawnedServer } from "./server-process.ts";
import { runWrk, wrkInstalled } from "./wrk.ts";

/** Keys per node for each run; BENCH_SCALE_KEYS=20000 makes a quick trial. */
const SIZES = (process.env.BENCH_SCALE_KEYS ?? "100000,1000000").split(",").map(Number);
/** 100-byte values, as in the issue's figures. */
const VALUE = "x".repeat(100);
const VALUE_BYTES_MAX = 1024 * 1024;
const IDLE_MS = Number(process.env.BENCH_SCALE_IDLE_MS ?? 60_000);
/** Health requests timed one after another on an idle cluster. */
const HEALTH_SAMPLES = 200;
const WRITE_SECONDS = 10;
const WRITE_CONNECTIONS = 16;
const SET_SCRIPT = join(import.meta.dir, "wrk-set.lua");
/** Identical-replica exchanges averaged for the bytes and CPU of one. */
const AE_ROUNDS = 10;
/** Share of keys made newer on one side before the divergence exchange. */
const DIVERGED_SHARE = 0.01;
/** Newer records written to the copy, and later given to the other replicas, per step: what one replica put may carry. */
const NEWER_CHUNK_RECORDS = RECORDS_PER_REQUEST_MAX;
/** Bounds on the waits for a join's data to be placed and for re-replication after kill -9. */
const JOIN_BOUND_MS = 300_000;
const REREPLICATE_BOUND_MS = 300_000;
/** A graceful leave is waited for this long, then the node is killed and the figure shows none. */
const LEAVE_BOUND_MS = 120_000;
const POLL_MS = 250;
/** The no-refused-writes check: keys written through the API at this concurrency into an empty cluster. */
const API_LOAD_KEYS = Number(process.env.BENCH_SCALE_LOAD_KEYS ?? 200_000);
const API_LOAD_CONCURRENCY = 64;
const PART = "scale" as const;

interface Node {
  readonly url: string;
  readonly dataDir: string;
  server: SpawnedServer;
}

/** The process's peak resident set (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match === null ? Number.NaN : Number(match[1]) / 1024;
}

function nodeSpec(node: { url: string; dataDir: string }, port: number, peers: readonly string[]): NodeSpec {
  return { port, peers, dataDir: node.dataDir, backend: "sqlite", replication: THREE_COPIES };
}

async function startNode(port: number, dataDir: string, peers: readonly string[]): Promise<Node> {
  const url = nodeUrlOf(port);
  const server = spawnServer(nodeCommand(nodeSpec({ url, dataDir }, port, peers)), url);
  await waitReady(server);
  return { url, dataDir, server };
}

/**
 * One sqlite file holding `count` live keys, written by SQL in one transaction (the store's own put
 * path would take minutes at 1M), then opened once through SqliteBackend, which builds the segment
 * digests from the records as after a crash: the time that takes is reported.
 */
async function seedFile(path: string, count: number, writer: string): Promise<number> {
  await new SqliteBackend({ path, sync: "normal", valueBytesMax: VALUE_BYTES_MAX, clock: Date.now }).close();
  const db = new Database(path);
  db.exec("PRAGMA synchronous = OFF");
  db.run("DELETE FROM segment_state");
  const insert = db.query("INSERT INTO records (key, value, version_wall_ms, version_counter, version_node, tombstone, expires_at_ms, ring) VALUES (?, ?, ?, ?, ?, 0, NULL, ?)");
  const wallMs = Date.now() - 60_000;
  // In ring order, the table's own order, so the load appends.
  const rows = Array.from({ length: count }, (_, i) => ({ key: `scale-${i}`, counter: i, ring: storedRing(xxHash64(`scale-${i}`)) })).sort((a, b) => (a.ring < b.ring ? -1 : a.ring > b.ring ? 1 : 0));
  db.transaction(() => {
    for (const row of rows) insert.run(row.key, VALUE, wallMs, row.counter, writer, row.ring);
  })();
  db.close();
  const started = performance.now();
  await new SqliteBackend({ path, sync: "normal", valueBytesMax: VALUE_BYTES_MAX, clock: Date.now }).close();
  return performance.now() - started;
}

/** A fetch that counts the bytes of request bodies and answers. */
function countingFetch(counter: { bytes: number }): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (typeof init?.body === "string") counter.bytes += Buffer.byteLength(init.body);
    const response = await fetch(input, init);
    const body = await response.arrayBuffer();
    counter.bytes += body.byteLength;
    return new Response(body, { status: response.status, headers: response.headers });
  }) as typeof fetch;
}

async function writeRate(url: string): Promise<{ rate: number; errors: number; p99Ms: number }> {
  const result = await runWrk({ url, script: SET_SCRIPT, scriptArgs: ["100000"], seconds: WRITE_SECONDS, threads: 2, connections: WRITE_CONNECTIONS });
  return { rate: result.requestsPerS, errors: result.errors, p99Ms: result.p99Ms };
}

async function healthLatency(url: string): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < HEALTH_SAMPLES; i++) {
    const started = performance.now();
    const response = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    await response.arrayBuffer();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

/**
 * Anti-entropy as node B runs it against node A, from a copy of B's file: first as identical
 * replicas (the group digests only), then after a share of the copy's keys got newer versions.
 * The newer records are then given to the other replicas too (`others`), so the figures measured
 * after this one find a calm cluster, not one still repairing the divergence made here.
 */
/** Keys per page of the scan the bench walks (the route's largest page). */
const SCAN_PAGE_KEYS = 1_000;

/** Every key of the cluster through node A's scan, a page at a time: the wall time, the keys, node A's CPU. */
async function scanAll(node: Node): Promise<{ ms: number; keys: number; cpuMs: number }> {
  const cpuBefore = cpuSeconds(node.server.pid);
  const started = performance.now();
  let keys = 0;
  let cursor: string | null = null;
  do {
    const response: Response = await fetch(`${node.url}/api/v1/scan?limit=${SCAN_PAGE_KEYS}${cursor === null ? "" : `&cursor=${cursor}`}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`bench: scan page answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as { keys: unknown[]; next: string | null };
    keys += page.keys.length;
    cursor = page.next;
  } while (cursor !== null);
  return { ms: performance.now() - started, keys, cpuMs: (cpuSeconds(node.server.pid) - cpuBefore) * 1000 };
}

async function antiEntropy(copyPath: string, a: Node, b: Node, others: readonly Node[], count: number) {
  const store = new SqliteBackend({ path: copyPath, sync: "normal", valueBytesMax: VALUE_BYTES_MAX, clock: Date.now });
  const urls = await ringUrls(a.url);
  const fullRing = buildRing(urls, VIRTUAL_NODES_DEFAULT);
  const replicas = new ReplicaService({
    self: b.url,
    store,
    clock: new HybridClock(b.url, Date.now),
    ring: () => fullRing,
    replicasFor: (r, key) => replicasOf(r, key, THREE_COPIES.factor),
    arcs: (r) => arcsOf(r, THREE_COPIES.factor),
    valueBytesMax: VALUE_BYTES_MAX,
    future: NO_FUTURE_BOUND,
  });
  const counter = { bytes: 0 };
  const client = new PeerClient({ secret: "", callTimeoutMs: 30_000, gossipTimeoutMs: 5_000, valueBytesMax: VALUE_BYTES_MAX, fetch: countingFetch(counter) });
  const loop = new AntiEntropy({ self: b.url, store, replicas, client, peers: () => [a.url], random: () => 0, streamTimeoutMs: 30_000 });
  try {
    const cpuBefore = cpuSeconds(a.server.pid);
    const started = performance.now();
    let segments = 0;
    for (let i = 0; i < AE_ROUNDS; i++) segments += (await loop.exchange(a.url)).segments;
    const identical = {
      bytes: counter.bytes / AE_ROUNDS,
      wallMs: (performance.now() - started) / AE_ROUNDS,
      peerCpuMs: ((cpuSeconds(a.server.pid) - cpuBefore) * 1000) / AE_ROUNDS,
      segments,
    };
    // A share of the keys written newer on B's side alone: what a replica that missed writes looks like.
    const changed = Math.round(count * DIVERGED_SHARE);
    const newer = Date.now();
    const newerRecords: StoredRecord[] = Array.from({ length: changed }, (_, i) => ({
      key: `scale-${Math.floor((i * count) / changed)}`,
      value: `changed ${VALUE}`.slice(0, 100),
      version: { wallMs: newer, counter: i, node: b.url },
      tombstone: false,
      expiresAtMs: undefined,
    }));
    for (let i = 0; i < changed; i += NEWER_CHUNK_RECORDS) await Promise.all(newerRecords.slice(i, i + NEWER_CHUNK_RECORDS).map((record) => store.put(record)));
    counter.bytes = 0;
    const cpuBeforeRepair = cpuSeconds(a.server.pid);
    const repairStarted = performance.now();
    let rounds = 0;
    let pushed = 0;
    for (; rounds < 200; rounds++) {
      const report = await loop.exchange(a.url);
      pushed += report.pushed;
      if (report.segments === 0) break;
    }
    const diverged = {
      changed,
      bytes: counter.bytes,
      wallMs: performance.now() - repairStarted,
      peerCpuMs: (cpuSeconds(a.server.pid) - cpuBeforeRepair) * 1000,
      rounds,
      pushed,
    };
    for (const node of others) {
      for (let i = 0; i < changed; i += NEWER_CHUNK_RECORDS) await client.putReplica(node.url, newerRecords.slice(i, i + NEWER_CHUNK_RECORDS));
    }
    return { identical, diverged };
  } finally {
    await store.close();
  }
}

async function ringUrls(url: string): Promise<string[]> {
  const state = await clusterState(url);
  if (state === undefined) throw new Error(`bench: ${url} did not report its state`);
  return [...state.peers];
}

const rebalanceIdle = (passesBefore: Map<string, number>) => (s: ClusterState) =>
  !s.replication.rebalance.running && s.replication.rebalance.passes > (passesBefore.get(s.nodeUrl) ?? 0) && (s.replication.rebalance.lastPass?.failedTargets.length ?? 0) === 0;

async function passes(urls: readonly string[]): Promise<Map<string, number>> {
  const states = await Promise.all(urls.map(clusterState));
  return new Map(states.flatMap((s) => (s === undefined ? [] : [[s.nodeUrl, s.replication.rebalance.passes] as const])));
}

/** Records the nodes' rebalancers have streamed so far, summed. */
async function streamedTotal(urls: readonly string[]): Promise<number> {
  const states = await Promise.all(urls.map(clusterState));
  return states.reduce((sum, s) => sum + (s?.replication.rebalance.streamed ?? 0), 0);
}

/** How often the leaving node's own count of records sent is read, until it stops answering. */
const LEAVE_POLL_MS = 100;

/**
 * One of three nodes at RF=3 leaves gracefully (SIGTERM): the two that stay held every key all along. How long
 * until it exits, the records it sent them (its own rebalancing count, read until it stopped answering: the
 * last ~LEAVE_POLL_MS of sending may be missed), and the CPU the two spent taking them.
 */
async function leaveOfThree(leaver: Node, staying: readonly Node[]): Promise<{ ms: number | undefined; sent: number; stayingCpuMs: number }> {
  const streamedBefore = await streamedTotal([leaver.url]);
  const cpuBefore = staying.map((node) => cpuSeconds(node.server.pid));
  const started = performance.now();
  leaver.server.child.kill("SIGTERM");
  let exited = false;
  void leaver.server.child.exited.then(() => (exited = true));
  let streamed = streamedBefore;
  while (!exited && performance.now() - started < LEAVE_BOUND_MS) {
    streamed = Math.max(streamed, await streamedTotal([leaver.url]).catch(() => streamed));
    await Bun.sleep(LEAVE_POLL_MS);
  }
  const ms = exited ? performance.now() - started : undefined;
  if (!exited) await leaver.server.kill9();
  const stayingCpuMs = staying.reduce((sum, node, i) => sum + (cpuSeconds(node.server.pid) - cpuBefore[i]!) * 1000, 0);
  return { ms, sent: streamed - streamedBefore, stayingCpuMs };
}

async function keyCount(url: string): Promise<number> {
  const response = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return ((await response.json()) as { storage: { keys: number } }).storage.keys;
}

interface SizeRun {
  readonly count: number;
  readonly rebuildMs: number;
  readonly startMs: number;
  readonly idleCpu: number[];
  readonly idleStreamed: number;
  readonly health: { p50: number; p99: number };
  readonly scan: Awaited<ReturnType<typeof scanAll>>;
  readonly ae: Awaited<ReturnType<typeof antiEntropy>>;
  readonly write: { rate: number; errors: number; p99Ms: number };
  readonly join: { placedMs: number | undefined; moved: number; expected: number };
  readonly rereplicate: { ms: number | undefined; streamed: number };
  readonly leave: Awaited<ReturnType<typeof leaveOfThree>>;
  readonly peakRss: Map<string, number>;
}

async function runSize(stack: AsyncDisposableStack, count: number, commands: string[]): Promise<SizeRun> {
  const base = stack.use(await tempDir(`limedb-bench-scale-${count}-`));
  const ports = Array.from({ length: 4 }, () => freePort());
  const urls = ports.map(nodeUrlOf);
  const dirs = ports.map((_, i) => join(base.path, `node-${i}`));
  const seed = join(base.path, "seed.sqlite");
  const rebuildMs = await seedFile(seed, count, urls[0]!);
  for (let i = 0; i < 3; i++) {
    const path = storePath({ kind: "sqlite", dataDir: dirs[i]!, nodeUrl: urls[i]! })!;
    await Bun.$`mkdir -p ${dirs[i]!}`.quiet();
    copyFileSync(seed, path);
  }
  const copy = join(base.path, "copy-of-b.sqlite");
  copyFileSync(seed, copy);
  // The copies' pages reach the disk now, not during the figures (a checkpoint's fsync would wait for them).
  Bun.spawnSync(["sync"]);

  const started = performance.now();
  const nodes = await Promise.all([0, 1, 2].map((i) => startNode(ports[i]!, dirs[i]!, urls.slice(0, 3).filter((_, j) => j !== i))));
  for (const node of nodes) stack.defer(() => node.server[Symbol.asyncDispose]());
  const formed = await pollUntilAll(urls.slice(0, 3), (s) => urls.slice(0, 3).every((url) => s.peers.includes(url)), POLL_MS, 30_000);
  if (formed.size < 3) throw new Error("bench: the three nodes did not form a cluster");
  const startMs = performance.now() - started;
  if (count === SIZES[0]) commands.push(...nodes.map((node, i) => nodeCommand(nodeSpec(node, ports[i]!, urls.slice(0, 3).filter((_, j) => j !== i))).join(" ")));
  // Let the first gossip rounds and passes settle before the idle window.
  await Bun.sleep(5_000);

  const streamedBeforeIdle = await streamedTotal(urls.slice(0, 3));
  const cpuBefore = nodes.map((node) => cpuSeconds(node.server.pid));
  await Bun.sleep(IDLE_MS);
  const idleCpu = nodes.map((node, i) => ((cpuSeconds(node.server.pid) - cpuBefore[i]!) * 1000 * 100) / IDLE_MS);
  // Records rebalancing streamed in the window: an idle cluster should stream none, and any would explain its CPU.
  const idleStreamed = (await streamedTotal(urls.slice(0, 3))) - streamedBeforeIdle;
  console.log(`bench: scale ${count}: idle CPU ${idleCpu.map((c) => c.toFixed(2)).join(", ")} %, ${idleStreamed} records streamed`);
  const health = await healthLatency(nodes[0]!.url);
  const scan = await scanAll(nodes[0]!);
  console.log(`bench: scale ${count}: scanned ${scan.keys} keys in ${Math.round(scan.ms)} ms, ${scan.cpuMs.toFixed(0)} ms CPU on node A`);
  const ae = await antiEntropy(copy, nodes[0]!, nodes[1]!, nodes.slice(1), count);
  console.log(`bench: scale ${count}: identical AE ${Math.round(ae.identical.bytes)} B, diverged ${ae.diverged.bytes} B in ${ae.diverged.rounds} rounds`);
  const write = wrkInstalled() ? await writeRate(nodes[0]!.url) : { rate: Number.NaN, errors: 0, p99Ms: Number.NaN };

  // A fourth node joins: placed once every node has finished a pass for the ring with it, and it holds its share.
  const before = await passes(urls.slice(0, 3));
  const expected = Math.round((await keyCount(nodes[0]!.url)) * 0.75);
  const joinStarted = performance.now();
  const fourth = await startNode(ports[3]!, dirs[3]!, [urls[0]!]);
  stack.defer(() => fourth.server[Symbol.asyncDispose]());
  nodes.push(fourth);
  const placed = await pollUntilAll(urls, (s) => urls.every((url) => s.peers.includes(url)) && (s.nodeUrl === fourth.url || rebalanceIdle(before)(s)), POLL_MS, JOIN_BOUND_MS);
  const placedMs = placed.size === 4 ? Math.max(...placed.values()) - joinStarted : undefined;
  const moved = await keyCount(fourth.url);
  console.log(`bench: scale ${count}: join placed in ${placedMs === undefined ? "—" : Math.round(placedMs)} ms, ${moved} keys on the new node`);

  // kill -9 of one of the first three: dead, it keeps its ranges; once removed, the others re-replicate them.
  const victim = nodes[2]!;
  const survivors = nodes.filter((node) => node !== victim).map((node) => node.url);
  const beforeKill = await passes(survivors);
  const streamedBefore = await streamedTotal(survivors);
  const peakRss = new Map(nodes.map((node) => [node.url, peakRssMb(node.server.pid)]));
  await victim.server.kill9();
  const isDead = (s: ClusterState) => s.members.some((m) => m.url === victim.url && m.state === "dead");
  const dead = await pollUntilAll(survivors, isDead, POLL_MS, REREPLICATE_BOUND_MS);
  if (dead.size < survivors.length) throw new Error(`bench: not every survivor held ${victim.url} dead within ${REREPLICATE_BOUND_MS} ms`);
  const removedAt = performance.now();
  await removeMember(survivors[0]!, victim.url);
  const isRemoved = (s: ClusterState) => !s.peers.includes(victim.url);
  const settled = await pollUntilAll(survivors, (s) => isRemoved(s) && rebalanceIdle(beforeKill)(s), POLL_MS, REREPLICATE_BOUND_MS);
  const rereplicatedMs = settled.size === survivors.length ? Math.max(...settled.values()) - removedAt : undefined;
  const streamedAfter = await streamedTotal(survivors);
  for (const node of nodes) if (node !== victim) peakRss.set(node.url, peakRssMb(node.server.pid));
  // Three nodes are left at RF=3; one of them leaves gracefully.
  const [first, leaver, ...rest] = nodes.filter((node) => node !== victim);
  const leave = await leaveOfThree(leaver!, [first!, ...rest]);
  console.log(`bench: scale ${count}: a leave of 3 at RF=3 took ${leave.ms === undefined ? "—" : Math.round(leave.ms)} ms, ${leave.sent} records sent to the two that stay`);
  return {
    count,
    rebuildMs,
    startMs,
    idleCpu,
    idleStreamed,
    health,
    scan,
    ae,
    write,
    join: { placedMs, moved, expected },
    rereplicate: { ms: rereplicatedMs, streamed: streamedAfter - streamedBefore },
    leave,
    peakRss,
  };
}

/** Three empty sqlite nodes that list each other; the caller stops them. */
async function emptyCluster(stack: AsyncDisposableStack, name: string): Promise<{ urls: string[]; nodes: Node[] }> {
  const base = stack.use(await tempDir(`limedb-bench-scale-${name}-`));
  const ports = Array.from({ length: 3 }, () => freePort());
  const urls = ports.map(nodeUrlOf);
  const nodes = await Promise.all(ports.map((port, i) => startNode(port, join(base.path, `node-${i}`), urls.filter((_, j) => j !== i))));
  const formed = await pollUntilAll(urls, (s) => urls.every((url) => s.peers.includes(url)), POLL_MS, 30_000);
  if (formed.size < urls.length) throw new Error("bench: three empty nodes did not form a cluster");
  return { urls, nodes };
}

/** The empty cluster's write rate, the baseline of every size's. */
async function emptyWriteRate(stack: AsyncDisposableStack): Promise<{ rate: number; errors: number; p99Ms: number }> {
  const { urls, nodes } = await emptyCluster(stack, "empty");
  try {
    return wrkInstalled() ? await writeRate(urls[0]!) : { rate: Number.NaN, errors: 0, p99Ms: Number.NaN };
  } finally {
    await Promise.all(nodes.map((node) => node.server[Symbol.asyncDispose]()));
  }
}

/** 200k keys through the API at 64 concurrent clients into a healthy empty cluster: how many were refused. */
async function apiLoad(stack: AsyncDisposableStack): Promise<{ refused: number; statuses: Record<string, number>; ms: number }> {
  const { urls, nodes } = await emptyCluster(stack, "load");
  try {
    const statuses: Record<string, number> = {};
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: API_LOAD_CONCURRENCY }, async () => {
        for (let i = next++; i < API_LOAD_KEYS; i = next++) {
          let status: string;
          try {
            const response = await fetch(`${urls[i % urls.length]}/api/v1/set`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ key: `load-${i}`, value: VALUE }),
              signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS * 2),
            });
            await response.arrayBuffer();
            status = String(response.status);
          } catch {
            status = "no answer";
          }
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      }),
    );
    const refused = Object.entries(statuses).reduce((sum, [status, n]) => sum + (status === "200" ? 0 : n), 0);
    return { refused, statuses, ms: performance.now() - started };
  } finally {
    await Promise.all(nodes.map((node) => node.server[Symbol.asyncDispose]()));
  }
}

const label = (count: number) => (count >= 1_000_000 ? `${count / 1_000_000}M` : `${count / 1000}k`);
const single = (group: string, name: string, value: number, unit: Figure["unit"], detail: string): Figure => ({ part: PART, group, name, value, unit, baseline: undefined, ratio: 1, detail });

export async function benchScale(): Promise<PartResult> {
  const started = performance.now();
  const commands: string[] = [];
  const notes: string[] = [];
  const figures: Figure[] = [];
  await using stack = new AsyncDisposableStack();
  const empty = await emptyWriteRate(stack);
  const runs: SizeRun[] = [];
  for (const count of SIZES) {
    // Each size's nodes stop before the next size starts, so they do not share the cores.
    await using sized = new AsyncDisposableStack();
    runs.push(await runSize(sized, count, commands));
  }
  const load = await apiLoad(stack);
  for (const run of runs) {
    const group = `${label(run.count)} keys per node`;
    figures.push(
      single(group, "idle CPU, busiest node", Math.max(...run.idleCpu), "%", `per node over ${IDLE_MS / 1000} s: ${run.idleCpu.map((c) => c.toFixed(2)).join(", ")} % of a core, ${run.idleStreamed.toLocaleString("en-US")} records streamed by rebalancing meanwhile; target ≤ 2 %`),
      single(group, "GET /api/v1/health p50", run.health.p50, "ms", `p99 ${run.health.p99.toFixed(2)} ms over ${HEALTH_SAMPLES} requests; target ≤ 10 ms`),
      single(group, "cluster-wide scan, every key", run.scan.ms, "ms", `${run.scan.keys.toLocaleString("en-US")} keys through node A in pages of ${SCAN_PAGE_KEYS.toLocaleString("en-US")}, ${Math.round(run.scan.keys / (run.scan.ms / 1000)).toLocaleString("en-US")} keys/s, ${Math.round(run.scan.cpuMs).toLocaleString("en-US")} ms CPU on node A`),
      single(group, "anti-entropy round, identical replicas", run.ae.identical.bytes, "B", `bytes both ways per round (target ≤ 65,536); ${run.ae.identical.wallMs.toFixed(1)} ms per round, ${run.ae.identical.peerCpuMs.toFixed(1)} ms CPU on the answering node; ${run.ae.identical.segments} segments differed in ${AE_ROUNDS} rounds`),
      single(group, `anti-entropy after ${DIVERGED_SHARE * 100} % divergence`, run.ae.diverged.bytes, "B", `${run.ae.diverged.changed.toLocaleString("en-US")} keys newer on one side repaired in ${run.ae.diverged.rounds} rounds, ${Math.round(run.ae.diverged.wallMs)} ms, ${run.ae.diverged.pushed.toLocaleString("en-US")} records pushed, ${Math.round(run.ae.diverged.peerCpuMs)} ms CPU on the answering node`),
      ...againstBaseline(PART, `${group}: writes`, "req/s", { name: "empty cluster", value: empty.rate, detail: `wrk -c${WRITE_CONNECTIONS} SET on node A, ${empty.errors} errors, p99 ${empty.p99Ms.toFixed(1)} ms` }, [
        { name: `${label(run.count)} keys`, value: run.write.rate, detail: `${run.write.errors} errors, p99 ${run.write.p99Ms.toFixed(1)} ms; target ≥ 0.7×` },
      ]),
      single(group, "4th node joins: data placed", run.join.placedMs ?? Number.NaN, "ms", `${run.join.moved.toLocaleString("en-US")} keys on the new node (its share ≈ ${run.join.expected.toLocaleString("en-US")}), ${run.join.placedMs === undefined ? "not placed" : Math.round(run.join.moved / (run.join.placedMs / 1000)).toLocaleString("en-US") + " records/s"}; target ≤ 60,000 ms`),
      single(group, "re-replication after removal", run.rereplicate.ms ?? Number.NaN, "ms", `a node killed with -9 and held dead, from its removal (POST /api/v1/admin/remove) until every survivor finished a pass; ${run.rereplicate.streamed.toLocaleString("en-US")} records streamed`),
      single(group, "graceful leave, one of 3 at RF=3", run.leave.ms ?? Number.NaN, "ms", `SIGTERM until it exits: ${run.leave.sent.toLocaleString("en-US")} records sent to the two that stay, by its own count (they held every key: only what their digests lack goes), ${Math.round(run.leave.stayingCpuMs).toLocaleString("en-US")} ms CPU on them`),
      single(group, "peak RSS, largest node", Math.max(...run.peakRss.values()), "MB", `VmHWM per node: ${[...run.peakRss.values()].map((mb) => mb.toFixed(0)).join(", ")} MB; target ≤ 300 MB`),
      single(group, "digest rebuild after a crash", run.rebuildMs, "ms", `opening a file with no saved digests reads every record once; a clean close saves them`),
    );
  }
  figures.push(single("loading through the API", `${API_LOAD_KEYS.toLocaleString("en-US")} keys, ${API_LOAD_CONCURRENCY} clients: refused`, load.refused, "writes", `statuses ${JSON.stringify(load.statuses)} in ${Math.round(load.ms / 1000)} s; target 0`));
  if (!wrkInstalled()) notes.push("Write rates not measured: wrk is not installed (apt-get install -y wrk).");
  return { part: PART, figures, notes, commands, elapsedMs: performance.now() - started };
}
