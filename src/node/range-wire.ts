// Ring ranges on the wire: anti-entropy requests name the ranges they compare, so both sides sum the same
// ranges even while their rings differ (a node starting, a member briefly seen dead).
import { Type, type Static } from "@sinclair/typebox";
import { RING_MAX, type RingRange } from "../ring/range.ts";
import { NodeError } from "./errors.ts";

/**
 * Ranges one request may name. Two nodes share a few merged ranges per vnode: measured at RF=3 on 3 to
 * 20 nodes, at most 99 at the default 256 vnodes and 1,606 at VIRTUAL_NODES_MAX (4,096); each takes
 * ~45 bytes of JSON. The bound also bounds what a forged request costs: 4,096 ranges each cutting
 * its segments made the answering node read ~8k short index ranges, ~200 ms of CPU at 1M keys.
 */
export const RANGES_PER_REQUEST_MAX = 4096;

/** A position as decimal digits: JSON numbers cannot hold 64 bits. */
const position = Type.String({ pattern: "^(0|[1-9][0-9]{0,19})$" });

export const rangeListSchema = Type.Array(Type.Tuple([position, position]), { maxItems: RANGES_PER_REQUEST_MAX });
export type WireRanges = Static<typeof rangeListSchema>;

export function rangesToWire(ranges: readonly RingRange[]): WireRanges {
  if (ranges.length > RANGES_PER_REQUEST_MAX) throw new Error(`invariant: ${ranges.length} shared ranges exceed RANGES_PER_REQUEST_MAX (${RANGES_PER_REQUEST_MAX})`);
  return ranges.map((range) => [range.lo.toString(), range.hi.toString()]);
}

/** Ranges as a peer sent them: each within the ring, `lo` ≤ `hi`, in order and apart, as shared ranges are. */
export function rangesFromWire(wire: WireRanges): RingRange[] {
  const ranges = wire.map(([lo, hi]) => ({ lo: BigInt(lo), hi: BigInt(hi) }));
  ranges.forEach((range, i) => {
    if (range.hi > RING_MAX || range.lo > range.hi) throw new NodeError("bad_request", `range ${i} must satisfy lo ≤ hi ≤ 2^64 - 1`);
    if (i > 0 && range.lo <= ranges[i - 1]!.hi) throw new NodeError("bad_request", `range ${i} must start after range ${i - 1} ends`);
  });
  return ranges;
}
