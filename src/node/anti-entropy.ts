// Anti-entropy digests: a replica's segment digests narrowed to the ranges it shares with one peer, and a tree over them.
import { clipRanges, type RingRange } from "../ring/range.ts";
import type { Backend } from "../store/backend.ts";
import type { StoredRecord } from "../store/record.ts";
import { segmentOfPosition } from "../store/segment-ranges.ts";
import { recordFingerprint, ringPosition, SEGMENT_COUNT, segmentEnd, segmentStart } from "../store/segments.ts";

/** Top-level groups of the digest tree: 256 of 256 segments each, so identical replicas exchange 256 numbers. */
export const GROUPS = 256;
export const SEGMENTS_PER_GROUP = SEGMENT_COUNT / GROUPS;
/** Groups whose segment digests go in one request (4,096 numbers, about 45 KB of JSON). */
export const GROUPS_PER_REQUEST_MAX = 16;
/** Differing segments repaired in one round (~15 records each at 1M keys); the rest follow in later rounds. */
export const SEGMENTS_PER_ROUND_MAX = 1024;
/** Records read from the store per step of a range walk. */
export const RANGE_STEP_RECORDS = 256;

/** The ranges of one segment that lie in `ranges` (sorted, disjoint). */
export function segmentParts(ranges: readonly RingRange[], segment: number): RingRange[] {
  return clipRanges(ranges, { lo: segmentStart(segment), hi: segmentEnd(segment) });
}

/**
 * Per segment, the digest of the records this node holds inside `ranges` (sorted, disjoint): the
 * store's own digest where a range covers the whole segment (O(1)), a sum over the records of the
 * covered part where a range starts or ends inside it (a short range scan), 0 elsewhere. Two
 * replicas computing it over the ranges they share get equal digests exactly where they agree.
 * `wanted` limits the work to some segments (the others stay 0).
 */
export async function sharedDigests(store: Backend, ranges: readonly RingRange[], wanted?: (segment: number) => boolean): Promise<Uint32Array> {
  const sums = await store.segmentDigests();
  const out = new Uint32Array(SEGMENT_COUNT);
  /** Per cut segment, the parts of the ranges inside it, gathered in one pass (ranges may come from a peer, thousands of them). */
  const partial = new Map<number, RingRange[]>();
  // Read the store's digests before any await: the array is live. Only a range's two end segments can
  // be cut; the ones between are whole.
  for (const range of ranges) {
    const first = segmentOfPosition(range.lo);
    const last = segmentOfPosition(range.hi);
    const firstWhole = range.lo === segmentStart(first) && (first < last || range.hi === segmentEnd(first));
    const lastWhole = range.hi === segmentEnd(last) && (first < last || range.lo === segmentStart(last));
    for (let segment = first; segment <= last; segment++) {
      if (wanted !== undefined && !wanted(segment)) continue;
      const whole = (segment > first && segment < last) || (segment === first ? firstWhole : lastWhole);
      if (whole) out[segment] = sums[segment]!;
      else {
        const parts = partial.get(segment) ?? [];
        parts.push(...segmentParts([range], segment));
        partial.set(segment, parts);
      }
    }
  }
  for (const [segment, parts] of partial) {
    let sum = 0;
    for await (const record of walkRanges(store, parts)) sum = (sum + recordFingerprint(record)) >>> 0;
    out[segment] = sum;
  }
  return out;
}

/** One digest per group: a hash of its segments' digests, so one differing segment changes its group's. */
export function groupDigests(segments: Uint32Array): number[] {
  return Array.from({ length: GROUPS }, (_, group) => Bun.hash.xxHash32(segments.subarray(group * SEGMENTS_PER_GROUP, (group + 1) * SEGMENTS_PER_GROUP)));
}

/** The segments of `groups`, in order, as one flat list of digests. */
export function groupSegments(segments: Uint32Array, groups: readonly number[]): number[] {
  return groups.flatMap((group) => [...segments.subarray(group * SEGMENTS_PER_GROUP, (group + 1) * SEGMENTS_PER_GROUP)]);
}

export function differingIndexes(mine: ArrayLike<number>, theirs: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < mine.length; i++) if (mine[i] !== theirs[i]) out.push(i);
  return out;
}

/** The parts of `ranges` inside the given segments (sorted), in ring order. */
export function rangesInSegments(ranges: readonly RingRange[], segments: readonly number[]): RingRange[] {
  return [...new Set(segments)].sort((a, b) => a - b).flatMap((segment) => segmentParts(ranges, segment));
}

/**
 * The records in `ranges` (sorted, disjoint), in ring order, after the record of `afterKey` when
 * given, a bounded step at a time: what every background job reads instead of the whole store.
 */
export async function* walkRanges(store: Backend, ranges: readonly RingRange[], afterKey?: string, step = RANGE_STEP_RECORDS): AsyncGenerator<StoredRecord> {
  const cursor = afterKey === undefined ? undefined : ringPosition(afterKey);
  for (const range of ranges) {
    if (cursor !== undefined && range.hi < cursor) continue;
    let after = cursor !== undefined && range.lo <= cursor ? afterKey : undefined;
    for (;;) {
      const batch = await store.scanRing(range, after, step);
      yield* batch;
      if (batch.length < step) break;
      after = batch.at(-1)!.key;
    }
  }
}
