// Describes a ring for people and clients: the hash range each point owns, in exact integers and degrees.
import { HASH_SPACE, joinHalves } from "./hash.ts";
import type { Ring } from "./ring.ts";

export interface PointRange {
  /** First hash of the range (the previous point + 1, wrapping). */
  readonly start: bigint;
  /** Last hash of the range: the point itself. */
  readonly end: bigint;
  /** Hashes in the range; a lone point owns the whole space, 2^64. */
  readonly size: bigint;
}

export function pointRanges(ring: Ring): Map<string, PointRange[]> {
  const ranges = new Map<string, PointRange[]>(ring.nodes.map((node) => [node, []]));
  const points = ring.pointHigh.length;
  for (let p = 0; p < points; p++) {
    const end = joinHalves(ring.pointHigh[p]!, ring.pointLow[p]!);
    const prev = (p + points - 1) % points;
    const prevEnd = joinHalves(ring.pointHigh[prev]!, ring.pointLow[prev]!);
    const start = (prevEnd + 1n) % HASH_SPACE;
    const span = (end - start + 1n + HASH_SPACE) % HASH_SPACE;
    // Points are sorted, so first == last means every point sits on one hash (a lone point, or only ties):
    // lookups pick point 0 for every key, so it owns the whole space and the tied points own nothing.
    const size = p === 0 && prevEnd === end ? HASH_SPACE : span;
    ranges.get(ring.nodes[ring.pointOwner[p]!]!)!.push({ start, end, size });
  }
  return ranges;
}

/** Each node's fraction of the hash space, summing to 1, so clients need no BigInt. */
export function ringShares(ranges: Map<string, PointRange[]>): Map<string, number> {
  const shares = new Map<string, number>();
  for (const [node, list] of ranges) {
    const total = list.reduce((sum, range) => sum + range.size, 0n);
    shares.set(node, Number(total) / Number(HASH_SPACE));
  }
  return shares;
}

/** A hash as degrees in [0, 360), two decimals, like the original's ring view. */
export function toDegrees(hash: bigint): number {
  const degrees = Math.round((Number(hash) / Number(HASH_SPACE)) * 36000) / 100;
  return degrees >= 360 ? 0 : degrees;
}
