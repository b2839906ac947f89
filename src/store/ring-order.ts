// Ring order for the stores that keep no index of it (memory, fs): positions computed from the keys.
import type { RingRange } from "../ring/range.ts";
import { compareKeys, type StoredRecord } from "./record.ts";
import { ringPosition } from "./segments.ts";

/**
 * Up to `limit` of `records` in `range`, in ring order (ties by key), after the record of `afterKey`
 * when given: what Backend.scanRing answers, for a store that hands over its candidates.
 */
export function ringSlice(records: Iterable<StoredRecord>, range: RingRange, afterKey: string | undefined, limit: number): StoredRecord[] {
  const after = afterKey === undefined ? undefined : ringPosition(afterKey);
  const inRange: { position: bigint; record: StoredRecord }[] = [];
  for (const record of records) {
    const position = ringPosition(record.key);
    if (position < range.lo || position > range.hi) continue;
    if (after !== undefined && (position < after || (position === after && compareKeys(record.key, afterKey!) <= 0))) continue;
    inRange.push({ position, record });
  }
  inRange.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : compareKeys(a.record.key, b.record.key)));
  return inRange.slice(0, limit).map((entry) => entry.record);
}
