// A cluster of real node processes for cluster tests: started one seed each, read through the cluster routes, stopped together.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { SECRET_HEADER } from "../../src/net/secret-header.ts";
import { buildRing, ownerOf, type Ring } from "../../src/ring/ring.ts";
import { freePort } from "./free-port.ts";
import { startNode, type NodeProcess, type NodeProcessOptions } from "./node-process.ts";
import { tempDir, type TempDir } from "./temp-dir.ts";

/** Gossip and forwarding timing of a test cluster, in milliseconds; passed to every node as flags. */
export interface ClusterTiming {
  readonly intervalMs: number;
  readonly staleAfterMs: number;
  readonly deadAfterMs: number;
  readonly forwardTimeoutMs: number;
}

/**
 * Five times faster than the defaults so the suite stays short, with the defaults' proportions kept
 * roomy enough (stale after 4 silent rounds, dead after 8) that a loaded 2-core machine does not flap.
 */
export const TEST_TIMING: ClusterTiming = { intervalMs: 200, staleAfterMs: 800, deadAfterMs: 1600, forwardTimeoutMs: 1000 };

/**
 * Per-test bound for cluster tests, passed to test() explicitly: Bun 1.4 ignores bunfig's [test] timeout
 * and would cut a cluster test off at its 5 s default. A healthy run takes a fraction of this.
 */
export const CLUSTER_TEST_TIMEOUT_MS = 30_000;
/** Bound on one request of a test to a node; a node that hangs fails the test instead of stalling it. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** How often waitUntil looks again: far below a gossip round, so a state that lasts a few rounds is seen. */
export const POLL_INTERVAL_MS = 25;
/** Characters of the last observed value quoted when a wait runs out. */
const DIAGNOSIS_CHARS_MAX = 2_000;

/** `backend` is memory by default here: cluster tests are about membership and routing, not durability. */
export interface ClusterOptions extends Pick<NodeProcessOptions, "backend" | "args" | "env"> {
  /** Nodes started now, all at once; node i is seeded with node i - 1 only, node 0 with none. */
  readonly size: number;
  readonly timing?: ClusterTiming;
  /** Flags of one node only (node i of those started, counting restarts out), after `args`. */
  readonly argsOf?: (index: number) => readonly string[];
}

export function timingArgs(timing: ClusterTiming): string[] {
  return [
    "-gossip.interval-ms", String(timing.intervalMs),
    "-gossip.stale-after-ms", String(timing.staleAfterMs),
    "-gossip.dead-after-ms", String(timing.deadAfterMs),
    "-node.peer-timeout-ms", String(timing.forwardTimeoutMs),
  ];
}

export class Cluster implements AsyncDisposable {
  readonly nodes: NodeProcess[] = [];
  readonly timing: ClusterTiming;
  private started = 0;

  constructor(
    private readonly dir: TempDir,
    private readonly options: ClusterOptions,
  ) {
    this.timing = options.timing ?? TEST_TIMING;
  }

  get urls(): string[] {
    return this.nodes.map((node) => node.url).sort();
  }

  node(index: number): NodeProcess {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`the cluster has no node ${index}; it has ${this.nodes.length}`);
    return node;
  }

  /** Starts one more node with `seed` as its only seed (none when undefined), on `port` or a free one. */
  async add(seed: string | undefined, port?: number): Promise<NodeProcess> {
    const node = await this.spawn(seed, port);
    this.nodes.push(node);
    return node;
  }

  /** Starts nodes on the given ports all at once, node i seeded with node i - 1 only (node 0 with none). */
  async addChain(ports: readonly number[]): Promise<void> {
    const urls = ports.map(urlOf);
    const started = await Promise.allSettled(ports.map((port, i) => this.spawn(i === 0 ? undefined : urls[i - 1], port)));
    for (const result of started) if (result.status === "fulfilled") this.nodes.push(result.value);
    const failed = started.find((result) => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  /** Stops every node at once (SIGCONT first, in case a test froze one), then removes the data dirs. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const node of this.nodes) node.process.kill("SIGCONT");
    const stopped = await Promise.allSettled(this.nodes.map((node) => node.stop()));
    this.nodes.length = 0;
    await this.dir[Symbol.asyncDispose]();
    const failed = stopped.find((result) => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  private async spawn(seed: string | undefined, port: number | undefined): Promise<NodeProcess> {
    // Each node gets its own data dir, so a restart finds exactly its own files.
    const index = this.started++;
    const dataDir = join(this.dir.path, `node-${index}`);
    await mkdir(dataDir);
    return startNode({
      dataDir,
      backend: this.options.backend ?? "memory",
      port,
      args: [...timingArgs(this.timing), ...(seed === undefined ? [] : ["-node.peers", seed]), ...(this.options.args ?? []), ...(this.options.argsOf?.(index) ?? [])],
      // Blanked so that whatever this shell exports cannot add seeds or a secret the test did not ask for.
      env: { NODE_PEERS: "", CLUSTER_SECRET: "", ...this.options.env },
    });
  }
}

export function urlOf(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/** Distinct free ports; each was free when picked, and a node that finds its port taken fails to start. */
export function freePorts(count: number): number[] {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(freePort());
  return [...ports];
}

/** Starts of a whole cluster tried when a port picked for it was taken before its node could bind it. */
const CLUSTER_START_ATTEMPTS_MAX = 3;

/**
 * Starts `size` nodes at once in a chain, each seeded with only the one before it; use with `await
 * using`. Ports are picked up front so seeds can be named before anything runs.
 */
/** Flags for one copy per key: each key then lives on exactly its owner, the routing these tests check. */
export const ONE_COPY = ["-node.replication-factor", "1"] as const;

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  for (let attempt = 1; ; attempt++) {
    const cluster = new Cluster(await tempDir("limedb-cluster-"), options);
    try {
      await cluster.addChain(freePorts(options.size));
      return cluster;
    } catch (error) {
      await cluster[Symbol.asyncDispose]();
      // node-process reports a port taken by someone else this way; anything else is a real failure.
      const portTaken = error instanceof Error && error.message.includes("cannot listen");
      if (!portTaken || attempt >= CLUSTER_START_ATTEMPTS_MAX) throw error;
    }
  }
}

/**
 * Reads until `done` holds for what was read, or throws once `timeoutMs` has passed, quoting the last
 * reading. A failed read counts as not done yet. Returns the reading and how long the wait took.
 */
export async function waitUntil<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<{ value: T; elapsedMs: number }> {
  const started = performance.now();
  let last = "nothing read yet";
  for (;;) {
    try {
      const value = await read();
      if (done(value)) return { value, elapsedMs: performance.now() - started };
      last = JSON.stringify(value);
    } catch (error) {
      last = String(error);
    }
    const elapsedMs = performance.now() - started;
    if (elapsedMs > timeoutMs) throw new Error(`${what}: still not so after ${Math.round(elapsedMs)} ms; last reading: ${last.slice(0, DIAGNOSIS_CHARS_MAX)}`);
    await Bun.sleep(POLL_INTERVAL_MS);
  }
}

export interface MemberOut {
  url: string;
  state: "active" | "stale" | "dead";
  generation: number;
  heartbeat: number;
  leaving: boolean;
  removed: boolean;
  reachable: boolean;
}

export interface StateOut {
  nodeUrl: string;
  peers: string[];
  status: string;
  totalNodes: number;
  members: MemberOut[];
  majority: { members: number; reachable: number; majority: boolean };
}

export interface GossipOut {
  node_url: string;
  node_heartbeat: number;
  status?: "standalone";
  cluster_health: string;
  total_peers: number;
  active_peers?: number;
  stale_peers?: number;
  dead_peers?: number;
  convergence_rate?: number;
  peer_details?: { url: string; heartbeat: number; generation: number; lag: number; status: string }[];
}

export interface RingOut {
  allNodes: string[];
  virtualNodesPerNode: number;
  /** The response as sent, without currentNode: equal texts mean equal rings, to the last digit of every hash. */
  shape: string;
}

/** Fetches with the test bound on every request (a longer one for a request known to wait, e.g. on a paused node). */
export function fetchNode(url: string, init?: RequestInit, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

async function json<T>(url: string): Promise<T> {
  const response = await fetchNode(url);
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

export function readState(nodeUrl: string): Promise<StateOut> {
  return json<StateOut>(`${nodeUrl}/api/v1/cluster/state`);
}

/**
 * POST /api/v1/admin/remove on `nodeUrl`: removes `member`, which that node must hold dead, from the cluster.
 * `secret` is the cluster's CLUSTER_SECRET, empty for none.
 */
export async function removeMember(nodeUrl: string, member: string, secret: string, force = false): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json", ...(secret === "" ? {} : { [SECRET_HEADER]: secret }) };
  return fetchNode(`${nodeUrl}/api/v1/admin/remove`, { method: "POST", headers, body: JSON.stringify(force ? { nodeUrl: member, force } : { nodeUrl: member }) });
}

/** Waits until every node in `nodeUrls` holds `member` dead (it stays in their rings until it is removed). */
export function waitForDeath(nodeUrls: readonly string[], member: string, timeoutMs: number) {
  return waitUntil(
    `every node holds ${member} dead`,
    () => Promise.all(nodeUrls.map(readState)),
    (states) => states.every((state) => state.members.some((m) => m.url === member && m.state === "dead")),
    timeoutMs,
  );
}

export function readGossip(nodeUrl: string): Promise<GossipOut> {
  return json<GossipOut>(`${nodeUrl}/api/v1/cluster/gossip`);
}

/** The ring as a node reports it; 64-bit hashes stay exact because ranges are compared as text. */
export async function readRing(nodeUrl: string): Promise<RingOut> {
  const response = await fetchNode(`${nodeUrl}/api/v1/cluster/ring`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${nodeUrl}/api/v1/cluster/ring answered ${response.status}: ${text}`);
  const parsed = JSON.parse(text) as { allNodes: string[]; virtualNodesPerNode: number };
  return { allNodes: parsed.allNodes, virtualNodesPerNode: parsed.virtualNodesPerNode, shape: text.replace(/"currentNode":"[^"]*",?/, "") };
}

export interface Views {
  readonly states: StateOut[];
  readonly rings: RingOut[];
}

/** Every node's state and ring, read at once. */
export async function readViews(nodeUrls: readonly string[]): Promise<Views> {
  const [states, rings] = await Promise.all([Promise.all(nodeUrls.map(readState)), Promise.all(nodeUrls.map(readRing))]);
  return { states, rings };
}

/** True when every node lists exactly `expected` as peers and all report one identical ring of them. */
export function agreeOn(views: Views, expected: readonly string[]): boolean {
  const want = JSON.stringify([...expected].sort());
  return (
    views.states.every((state) => JSON.stringify(state.peers) === want) &&
    views.rings.every((ring) => JSON.stringify(ring.allNodes) === want && ring.shape === views.rings[0]?.shape)
  );
}

/** Waits until every node of `nodeUrls` agrees that the cluster is exactly `expected`. */
export function waitForAgreement(nodeUrls: readonly string[], expected: readonly string[], timeoutMs: number) {
  return waitUntil(`every node lists ${expected.join(", ")} and reports the same ring`, () => readViews(nodeUrls), (views) => agreeOn(views, expected), timeoutMs);
}

/** The ring the nodes should be using, built here from their URLs and the vnode count they report. */
export async function expectedRing(urls: readonly string[]): Promise<Ring> {
  const { virtualNodesPerNode } = await readRing(urls[0]!);
  return buildRing(urls, virtualNodesPerNode);
}

/** A key that `ring` places on `owner`: the first of <prefix>0, <prefix>1, … that lands there. */
export function keyOwnedBy(ring: Ring, owner: string, prefix = "owned-"): string {
  for (let i = 0; ; i++) {
    const key = `${prefix}${i}`;
    if (ownerOf(ring, key) === owner) return key;
  }
}
