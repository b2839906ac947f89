// A stretch of the ring's 64-bit hash space, both ends included: what range scans, digests and moves are about.

export interface RingRange {
  /** First position, unsigned 64-bit. */
  readonly lo: bigint;
  /** Last position, unsigned 64-bit, at or after `lo`. */
  readonly hi: bigint;
}

export const RING_MAX = (1n << 64n) - 1n;

/** The whole hash space. */
export const WHOLE_RING: RingRange = { lo: 0n, hi: RING_MAX };

export function rangeHolds(range: RingRange, position: bigint): boolean {
  return position >= range.lo && position <= range.hi;
}

/** Sorted, overlapping or touching ranges joined into as few as possible. */
export function mergeRanges(ranges: readonly RingRange[]): RingRange[] {
  const sorted = [...ranges].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const out: { lo: bigint; hi: bigint }[] = [];
  for (const range of sorted) {
    const last = out.at(-1);
    if (last !== undefined && range.lo <= last.hi + 1n) {
      if (range.hi > last.hi) last.hi = range.hi;
    } else out.push({ lo: range.lo, hi: range.hi });
  }
  return out;
}

/** The parts of `ranges` (sorted, disjoint) inside `within`. */
export function clipRanges(ranges: readonly RingRange[], within: RingRange): RingRange[] {
  const out: RingRange[] = [];
  for (const range of ranges) {
    if (range.hi < within.lo || range.lo > within.hi) continue;
    out.push({ lo: range.lo > within.lo ? range.lo : within.lo, hi: range.hi < within.hi ? range.hi : within.hi });
  }
  return out;
}
