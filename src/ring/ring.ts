// The consistent-hash ring as an immutable value: points in typed arrays, rebuilt whole on every change.
import { loadScratch, scratchHigh, scratchLow, xxHash64, type Hash64 } from "./hash.ts";

export interface Ring {
  /** Member URLs, sorted; a point's owner is an index into this list. */
  readonly nodes: readonly string[];
  readonly vnodesPerNode: number;
  /** Point hashes split into halves, sorted by (hash, owner URL). */
  readonly pointHigh: Uint32Array;
  readonly pointLow: Uint32Array;
  readonly pointOwner: Uint32Array;
  readonly hash: Hash64;
}

/** Ring points per node when VIRTUAL_NODES=0: one point, i = 0, as in the original. */
function pointsPerNode(vnodesPerNode: number): number {
  return Math.max(1, vnodesPerNode);
}

export function buildRing(nodeUrls: Iterable<string>, vnodesPerNode: number, hash: Hash64 = xxHash64): Ring {
  const nodes = [...new Set(nodeUrls)].sort();
  const perNode = pointsPerNode(vnodesPerNode);
  const total = nodes.length * perNode;
  const high = new Uint32Array(total);
  const low = new Uint32Array(total);
  const owner = new Uint32Array(total);
  let p = 0;
  for (let n = 0; n < nodes.length; n++) {
    for (let i = 0; i < perNode; i++) {
      loadScratch(hash(`${nodes[n]}:${i}`));
      high[p] = scratchHigh();
      low[p] = scratchLow();
      owner[p] = n;
      p++;
    }
  }
  // Owners are indexes into the sorted URL list, so comparing them breaks hash ties by URL.
  const order = Array.from({ length: total }, (_, i) => i);
  order.sort((a, b) => (high[a]! - high[b]!) || (low[a]! - low[b]!) || (owner[a]! - owner[b]!));
  return {
    nodes,
    vnodesPerNode,
    pointHigh: Uint32Array.from(order, (i) => high[i]!),
    pointLow: Uint32Array.from(order, (i) => low[i]!),
    pointOwner: Uint32Array.from(order, (i) => owner[i]!),
    hash,
  };
}

/** Adding a node that is already there returns the same ring. */
export function withNode(ring: Ring, nodeUrl: string): Ring {
  return ring.nodes.includes(nodeUrl) ? ring : buildRing([...ring.nodes, nodeUrl], ring.vnodesPerNode, ring.hash);
}

/** Removing a node that is not there returns the same ring. */
export function withoutNode(ring: Ring, nodeUrl: string): Ring {
  return ring.nodes.includes(nodeUrl) ? buildRing(ring.nodes.filter((n) => n !== nodeUrl), ring.vnodesPerNode, ring.hash) : ring;
}

/** Index of the first point at or after the key's hash, wrapping to 0. Assumes a non-empty ring. */
function firstPointAtOrAfter(ring: Ring, key: string): number {
  loadScratch(ring.hash(key));
  const high = scratchHigh();
  const low = scratchLow();
  const { pointHigh, pointLow } = ring;
  let lo = 0;
  let hi = pointHigh.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const h = pointHigh[mid]!;
    if (h < high || (h === high && pointLow[mid]! < low)) lo = mid + 1;
    else hi = mid;
  }
  return lo === pointHigh.length ? 0 : lo;
}

export function ownerOf(ring: Ring, key: string): string | undefined {
  if (ring.pointHigh.length === 0) return undefined;
  return ring.nodes[ring.pointOwner[firstPointAtOrAfter(ring, key)]!];
}

/** The first `count` distinct nodes met walking clockwise from the key; fewer when the ring is smaller. */
export function replicasOf(ring: Ring, key: string, count: number): string[] {
  const points = ring.pointOwner.length;
  if (points === 0 || count <= 0) return [];
  const wanted = Math.min(count, ring.nodes.length);
  // Every key's replicas are every node when there are no more nodes than copies: no hash to compute.
  if (wanted === ring.nodes.length && wanted === 1) return [ring.nodes[0]!];
  const replicas: string[] = [];
  const start = firstPointAtOrAfter(ring, key);
  for (let step = 0; step < points && replicas.length < wanted; step++) {
    const node = ring.nodes[ring.pointOwner[(start + step) % points]!]!;
    if (!replicas.includes(node)) replicas.push(node);
  }
  return replicas;
}
