// Segment digests: a fixed division of the ring's hash space, each segment summing its records' fingerprints (tictac AAE).
import { loadScratch, scratchHigh, xxHash64 } from "../ring/hash.ts";
import type { StoredRecord } from "./record.ts";

/** The top bits of a key's ring position that name its segment. */
export const SEGMENT_BITS = 16;
/** Segments in the hash space: 65,536, so a segment holds ~15 records at 1M keys. */
export const SEGMENT_COUNT = 1 << SEGMENT_BITS;
/** Bits below the segment number in a 64-bit ring position. */
export const SEGMENT_SHIFT = BigInt(64 - SEGMENT_BITS);

/** A key's place on the ring: XXH64 of the key, the hash placement uses. */
export function ringPosition(key: string): bigint {
  return xxHash64(key);
}

/** The segment of a key: the top SEGMENT_BITS of its ring position. */
export function segmentOf(key: string): number {
  loadScratch(xxHash64(key));
  return scratchHigh() >>> (32 - SEGMENT_BITS);
}

/** The first ring position of a segment. */
export function segmentStart(segment: number): bigint {
  return BigInt(segment) << SEGMENT_SHIFT;
}

/** The last ring position of a segment. */
export function segmentEnd(segment: number): bigint {
  return ((BigInt(segment) + 1n) << SEGMENT_SHIFT) - 1n;
}

/** A record's fingerprint: the key and its exact version, so two replicas agree only if they hold the same write. */
export function fingerprint(key: string, version: StoredRecord["version"], tombstone: boolean): number {
  return fingerprintOf(key, version.wallMs, version.counter, version.node, tombstone);
}

/** The same from the version's parts, for a recount that reads rows without building records. */
export function fingerprintOf(key: string, wallMs: number, counter: number, node: string, tombstone: boolean): number {
  return Bun.hash.xxHash32(`${key}\u0000${wallMs}:${counter}:${node}:${tombstone ? 1 : 0}`);
}

export function recordFingerprint(record: StoredRecord): number {
  return fingerprint(record.key, record.version, record.tombstone);
}

/**
 * Per-segment sums of fingerprints modulo 2^32: independent of order, so a replica keeps them up to
 * date in O(1) per write (add the new record's fingerprint, subtract the one it replaced) and two
 * replicas holding the same records hold the same sums.
 */
export class SegmentDigests {
  readonly sums = new Uint32Array(SEGMENT_COUNT);

  add(record: StoredRecord): void {
    const segment = segmentOf(record.key);
    this.sums[segment] = (this.sums[segment]! + recordFingerprint(record)) >>> 0;
  }

  remove(record: Pick<StoredRecord, "key" | "version" | "tombstone">): void {
    const segment = segmentOf(record.key);
    this.sums[segment] = (this.sums[segment]! - fingerprint(record.key, record.version, record.tombstone)) >>> 0;
  }

  /** Replaces `before` (if any) by `after` (if any): what a put, discard or purge does to one key. */
  replace(before: StoredRecord | undefined, after: StoredRecord | undefined): void {
    if (before !== undefined) this.remove(before);
    if (after !== undefined) this.add(after);
  }

  static of(records: Iterable<StoredRecord>): SegmentDigests {
    const digests = new SegmentDigests();
    for (const record of records) digests.add(record);
    return digests;
  }
}

/** The digests and live counts of segments `first`..`first + sums.length - 1`, counted from their records. */
export function recount(records: Iterable<StoredRecord>, first: number, count: number): { sums: Uint32Array; live: Int32Array } {
  const sums = new Uint32Array(count);
  const live = new Int32Array(count);
  for (const record of records) {
    const i = segmentOf(record.key) - first;
    if (i < 0 || i >= count) continue;
    sums[i] = (sums[i]! + recordFingerprint(record)) >>> 0;
    if (!record.tombstone) live[i]!++;
  }
  return { sums, live };
}
