// Client calls of replication tests against real nodes: key writes and reads, one replica's own record, replica listings.
import { buildRing, replicasOf } from "../../src/ring/ring.ts";
import { VIRTUAL_NODES_DEFAULT } from "../../src/config/settings.ts";
import type { WireRecord } from "../../src/node/record-wire.ts";
import { SECRET_HEADER } from "../../src/node/peer-client.ts";
import { fetchNode, TEST_TIMING, type Cluster, type ClusterTiming } from "./cluster.ts";

/**
 * TEST_TIMING with room for a quorum on a loaded 2-core machine: a test that needs every write to
 * succeed must not fail because two busy processes took over a second to answer. A node that is down
 * refuses at once, so the bound costs nothing when things work.
 */
export const REPLICATION_TIMING: ClusterTiming = { ...TEST_TIMING, forwardTimeoutMs: 4000 };

/**
 * The cluster secret of every replication test cluster this test process starts. Tests running in
 * parallel on one machine reuse each other's freed ports; a node that held a dead member's URL would
 * otherwise be found by that member's old cluster (dead members are probed) and the two would merge.
 */
export const TEST_CLUSTER_SECRET = `replication-tests-${crypto.randomUUID()}`;

/** Replication flags for test clusters: RF=3, W=2, R=2, anti-entropy every `antiEntropyIntervalMs`, and this process's secret. */
export function replicationArgs(antiEntropyIntervalMs: number): string[] {
  return [
    "-cluster.secret", TEST_CLUSTER_SECRET,
    "-node.replication-factor", "3",
    "-node.write-quorum", "2",
    "-node.read-quorum", "2",
    "-node.anti-entropy-interval-ms", String(antiEntropyIntervalMs),
  ];
}

/** A client answer: the status and, for a 200 read, the value. */
export interface Answer {
  readonly status: number;
  readonly value?: string;
  readonly text: string;
}

export async function setKey(nodeUrl: string, key: string, value: string): Promise<Answer> {
  const response = await fetchNode(`${nodeUrl}/api/v1/set`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key, value }),
  });
  const text = await response.text();
  return { status: response.status, text };
}

/** `timeoutMs` is the client's deadline: longer for a read known to wait (sent to a paused node). */
export async function getKey(nodeUrl: string, key: string, timeoutMs?: number): Promise<Answer> {
  const response = await fetchNode(`${nodeUrl}/api/v1/get/${encodeURIComponent(key)}`, undefined, timeoutMs);
  const text = await response.text();
  if (response.status !== 200) return { status: response.status, text };
  return { status: 200, value: (JSON.parse(text) as { value: string }).value, text };
}

export async function delKey(nodeUrl: string, key: string): Promise<Answer> {
  const response = await fetchNode(`${nodeUrl}/api/v1/del/${encodeURIComponent(key)}`, { method: "DELETE" });
  return { status: response.status, text: await response.text() };
}

/** A request to an internal or admin endpoint, which takes the cluster secret. */
export function fetchInternal(url: string, init: RequestInit = {}): Promise<Response> {
  return fetchNode(url, { ...init, headers: { "content-type": "application/json", ...(init.headers as Record<string, string> | undefined), [SECRET_HEADER]: TEST_CLUSTER_SECRET } });
}

/** POST /api/v1/admin/leave: the node hands its data off, then exits. */
export function requestLeave(nodeUrl: string): Promise<Response> {
  return fetchInternal(`${nodeUrl}/api/v1/admin/leave`, { method: "POST" });
}

/** The record this node's own store holds (tombstones included), or null: no coordination, no repair. */
export async function ownRecord(nodeUrl: string, key: string): Promise<WireRecord | null> {
  const response = await fetchInternal(`${nodeUrl}/api/v1/replica/get/${encodeURIComponent(key)}`);
  if (response.status !== 200) throw new Error(`GET ${nodeUrl}/api/v1/replica/get/${key} answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { record: WireRecord | null }).record;
}

export interface ReplicaOut {
  nodeUrl: string;
  holds: boolean;
  version: { wallMs: number; counter: number; node: string } | null;
  tombstone: boolean;
  error?: string;
}

/** GET /api/v1/replicas/:key: the key's replicas on this node's ring, each with what it holds. */
export async function readReplicas(nodeUrl: string, key: string): Promise<ReplicaOut[]> {
  const response = await fetchNode(`${nodeUrl}/api/v1/replicas/${encodeURIComponent(key)}`);
  if (response.status !== 200) throw new Error(`GET ${nodeUrl}/api/v1/replicas/${key} answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { replicas: ReplicaOut[] }).replicas;
}

export interface ReplicationOut {
  hintBacklog: number;
  hintsByTarget: Record<string, number>;
  hintsDelivered: number;
  readRepairs: number;
  antiEntropyRepairs: number;
  rebalance: { running: boolean; passes: number; streamed: number; dropped: number };
}

export async function readReplication(nodeUrl: string): Promise<ReplicationOut> {
  const response = await fetchNode(`${nodeUrl}/api/v1/cluster/state`);
  if (response.status !== 200) throw new Error(`GET ${nodeUrl}/api/v1/cluster/state answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { replication: ReplicationOut }).replication;
}

/** The replicas of a key on the ring of exactly these nodes, as every node computes them. */
export function replicasOn(nodeUrls: readonly string[], key: string, factor = 3): string[] {
  return replicasOf(buildRing(nodeUrls, VIRTUAL_NODES_DEFAULT), key, factor);
}

/** True when exactly `count` replicas answered and all hold one version (a tombstone, if `tombstone` says so; either when undefined). */
export function fullyReplicated(replicas: readonly ReplicaOut[], count: number, tombstone?: boolean): boolean {
  const first = replicas[0]?.version;
  return (
    replicas.length === count &&
    first !== null &&
    first !== undefined &&
    replicas.every((r) => r.error === undefined && r.holds && (tombstone === undefined || r.tombstone === tombstone) && JSON.stringify(r.version) === JSON.stringify(first))
  );
}

/** Runs `work` over the items with at most `concurrency` in flight; results keep the items' order. */
export async function inParallel<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/**
 * Stops every node of the cluster with SIGINT when the scope ends, before the cluster's own disposal
 * would send SIGTERM: a graceful leave hands data off and waits for replicas a test may have killed.
 * Declare it after the cluster, so it is disposed first.
 */
export function interruptOnExit(cluster: Cluster): AsyncDisposable {
  return {
    async [Symbol.asyncDispose]() {
      // SIGCONT first, in case a test froze one: a stopped process would not act on SIGINT.
      for (const node of cluster.nodes) node.process.kill("SIGCONT");
      await Promise.allSettled(cluster.nodes.map((node) => node.interrupt()));
    },
  };
}

/** Whether a client's answer is JSON (every error answer must be). */
export function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
