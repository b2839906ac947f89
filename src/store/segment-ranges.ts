// Which segments a ring range covers.
import type { RingRange } from "../ring/range.ts";
import { SEGMENT_SHIFT } from "./segments.ts";

export function segmentOfPosition(position: bigint): number {
  return Number(position >> SEGMENT_SHIFT);
}

/** The segments `range` touches, in order, starting no earlier than `from`. */
export function* segmentsOf(range: RingRange, from?: number): Generator<number> {
  const last = segmentOfPosition(range.hi);
  for (let segment = Math.max(segmentOfPosition(range.lo), from ?? 0); segment <= last; segment++) yield segment;
}
