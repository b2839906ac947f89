// After healing: how long until the nodes agree on the cluster again and every key's replicas hold one record,
// and each key's replicas as GET /api/v1/replicas/:key lists them, for the checker.
import type { ReplicaRecord, ReplicaSnapshot, Workload } from "./history.ts";
import { isDivergent } from "./checker.ts";
import type { FaultCluster } from "./fault-cluster.ts";

/** Bound on one replicas listing (the node asks three replicas, each within its forward timeout). */
const LISTING_TIMEOUT_MS = 5_000;
/** Listings in flight at once. */
const LISTING_CONCURRENCY = 8;
/** How often divergent keys are listed again while waiting for them to converge. */
const POLL_INTERVAL_MS = 500;

interface ReplicaOut {
  nodeUrl: string;
  holds: boolean;
  version: unknown;
  tombstone: boolean;
  error?: string;
}

export async function snapshotKey(listedBy: string, key: string, workload: Workload): Promise<ReplicaSnapshot> {
  try {
    const response = await fetch(`${listedBy}/api/v1/replicas/${encodeURIComponent(key)}`, { signal: AbortSignal.timeout(LISTING_TIMEOUT_MS) });
    if (response.status !== 200) return { key, workload, listedBy, replicas: [], error: `${response.status} ${(await response.text()).slice(0, 200)}` };
    const body = (await response.json()) as { replicas: ReplicaOut[] };
    const replicas = body.replicas.map(
      (r): ReplicaRecord => ({ node: r.nodeUrl, holds: r.holds, version: r.version === null ? null : JSON.stringify(r.version), tombstone: r.tombstone, ...(r.error === undefined ? {} : { error: r.error }) }),
    );
    return { key, workload, listedBy, replicas };
  } catch (error) {
    return { key, workload, listedBy, replicas: [], error: String(error) };
  }
}

/** Every key's replicas, each listed by a node in turn. */
export async function snapshotKeys(nodes: readonly string[], keys: readonly { key: string; workload: Workload }[]): Promise<ReplicaSnapshot[]> {
  const out = new Array<ReplicaSnapshot>(keys.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < keys.length; i = next++) out[i] = await snapshotKey(nodes[i % nodes.length]!, keys[i]!.key, keys[i]!.workload);
  };
  await Promise.all(Array.from({ length: LISTING_CONCURRENCY }, worker));
  return out;
}

export interface Convergence {
  /** The test-clock time at which the nodes agreed and every key's replicas held one record, or undefined. */
  readonly atMs: number | undefined;
  /** What was still not so when the deadline came: for the log. */
  readonly pending: string;
}

/**
 * Waits, until `deadlineMs` on the test clock, for the nodes to agree on the cluster and then for every
 * key's replicas to agree; only keys still apart are listed again.
 */
export async function waitForConvergence(cluster: FaultCluster, keys: readonly { key: string; workload: Workload }[], now: () => number, deadlineMs: number): Promise<Convergence> {
  try {
    await cluster.waitForAgreement(Math.max(0, deadlineMs - now()));
  } catch (error) {
    return { atMs: undefined, pending: `the nodes did not agree on the cluster: ${String(error).slice(0, 500)}` };
  }
  let apart = keys;
  while (now() < deadlineMs) {
    const snapshots = await snapshotKeys(cluster.urls, apart);
    apart = apart.filter((_, i) => isDivergent(snapshots[i]!));
    if (apart.length === 0) return { atMs: now(), pending: "" };
    await Bun.sleep(POLL_INTERVAL_MS);
  }
  return { atMs: undefined, pending: `${apart.length} key(s) still apart, e.g. ${apart.slice(0, 3).map((k) => k.key).join(", ")}` };
}
