// The ring cut into arcs: each stretch between two points and the replicas of every key in it.
import { joinHalves } from "./hash.ts";
import { mergeRanges, RING_MAX, type RingRange } from "./range.ts";
import type { Ring } from "./ring.ts";

export interface Arc {
  readonly range: RingRange;
  /** The first `replicationFactor` distinct nodes clockwise from the arc's end point, as replicasOf gives them. */
  readonly replicas: readonly string[];
}

/**
 * The ring's arcs in position order: (previous point, point] for every point, and the wrap-around
 * stretch after the last point, which belongs with the first. A key's replicas are those of its arc,
 * the same as replicasOf(ring, key, replicationFactor) (test/ring/arcs.test.ts holds them to it).
 */
export function arcsOf(ring: Ring, replicationFactor: number): Arc[] {
  const points = ring.pointOwner.length;
  if (points === 0) return [];
  const wanted = Math.min(replicationFactor, ring.nodes.length);
  const replicasFrom = (start: number): string[] => {
    const out: string[] = [];
    for (let step = 0; step < points && out.length < wanted; step++) {
      const node = ring.nodes[ring.pointOwner[(start + step) % points]!]!;
      if (!out.includes(node)) out.push(node);
    }
    return out;
  };
  const arcs: Arc[] = [];
  let lo = 0n;
  for (let i = 0; i < points; i++) {
    const hi = joinHalves(ring.pointHigh[i]!, ring.pointLow[i]!);
    // Two points at the same position: the first one owns the (empty) stretch between them.
    if (hi >= lo) arcs.push({ range: { lo, hi }, replicas: replicasFrom(i) });
    lo = hi + 1n;
  }
  if (lo <= RING_MAX) arcs.push({ range: { lo, hi: RING_MAX }, replicas: replicasFrom(0) });
  return arcs;
}

/** The ranges (merged) whose keys both `a` and `b` replicate. */
export function sharedRanges(arcs: readonly Arc[], a: string, b: string): RingRange[] {
  return mergeRanges(arcs.filter((arc) => arc.replicas.includes(a) && arc.replicas.includes(b)).map((arc) => arc.range));
}

/** The ranges (merged) whose keys `node` replicates, or, with `holds` false, does not. */
export function rangesOf(arcs: readonly Arc[], node: string, holds = true): RingRange[] {
  return mergeRanges(arcs.filter((arc) => arc.replicas.includes(node) === holds).map((arc) => arc.range));
}

export interface Move {
  readonly range: RingRange;
  readonly before: readonly string[];
  readonly after: readonly string[];
}

/**
 * The stretches whose replica set differs between two rings' arcs, cut at the points of both, with
 * the replicas before and after: what rebalancing has to move, and nothing else.
 */
export function movesBetween(before: readonly Arc[], after: readonly Arc[]): Move[] {
  const moves: Move[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length && j < after.length) {
    const x = before[i]!;
    const y = after[j]!;
    const lo = x.range.lo > y.range.lo ? x.range.lo : y.range.lo;
    const hi = x.range.hi < y.range.hi ? x.range.hi : y.range.hi;
    if (lo <= hi && !sameSet(x.replicas, y.replicas)) {
      const last = moves.at(-1);
      // Neighbouring stretches with the same change are one move.
      if (last !== undefined && last.range.hi + 1n === lo && sameList(last.before, x.replicas) && sameList(last.after, y.replicas)) {
        moves[moves.length - 1] = { ...last, range: { lo: last.range.lo, hi } };
      } else moves.push({ range: { lo, hi }, before: x.replicas, after: y.replicas });
    }
    if (x.range.hi <= y.range.hi) i++;
    if (y.range.hi <= x.range.hi) j++;
  }
  return moves;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((node) => b.includes(node));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((node, i) => b[i] === node);
}
