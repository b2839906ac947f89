// Anti-entropy: replicas compare per-bucket digests of the keys they share and exchange only differing buckets.
import type { Backend } from "../store/backend.ts";
import type { StoredRecord } from "../store/record.ts";
import { SCAN_BATCH_RECORDS } from "./rebalancer.ts";

/** Buckets per exchange: more buckets, less data re-sent per difference, a larger digest message. */
export const BUCKETS = 64;

export function bucketOf(key: string): number {
  return Bun.hash.xxHash32(key) % BUCKETS;
}

/** A record's fingerprint: the key and its exact version, so two replicas agree only if they hold the same write. */
function fingerprint(record: StoredRecord): number {
  const v = record.version;
  return Bun.hash.xxHash32(`${record.key}\u0000${v.wallMs}:${v.counter}:${v.node}:${record.tombstone ? 1 : 0}`);
}

/**
 * Digests of the records for which `shares(key)` holds, per bucket: a sum of fingerprints modulo 2^32,
 * which is independent of order, so both sides compute it from their own scan.
 */
export async function bucketDigests(store: Backend, shares: (key: string) => boolean): Promise<number[]> {
  const digests = new Array<number>(BUCKETS).fill(0);
  for (let after: string | undefined; ; ) {
    const batch = await store.scan(after, SCAN_BATCH_RECORDS);
    if (batch.length === 0) break;
    after = batch.at(-1)!.key;
    for (const record of batch) {
      if (!shares(record.key)) continue;
      const bucket = bucketOf(record.key);
      digests[bucket] = (digests[bucket]! + fingerprint(record)) >>> 0;
    }
  }
  return digests;
}

export function differingBuckets(mine: readonly number[], theirs: readonly number[]): number[] {
  const out: number[] = [];
  for (let b = 0; b < BUCKETS; b++) if (mine[b] !== theirs[b]) out.push(b);
  return out;
}

/** The shared records of the given buckets, in key order. */
export async function recordsInBuckets(store: Backend, buckets: ReadonlySet<number>, shares: (key: string) => boolean): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (let after: string | undefined; ; ) {
    const batch = await store.scan(after, SCAN_BATCH_RECORDS);
    if (batch.length === 0) break;
    after = batch.at(-1)!.key;
    for (const record of batch) if (shares(record.key) && buckets.has(bucketOf(record.key))) out.push(record);
  }
  return out;
}
