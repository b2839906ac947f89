// The one interface every store implements; the conformance suite in test/store holds them all to it.
import type { StoreBackendName } from "../config/settings.ts";
import type { RingRange } from "../ring/range.ts";
import type { KeyEntry, KeyPage, PutOutcome, StoredRecord, Version } from "./record.ts";

export interface Backend {
  readonly kind: StoreBackendName;
  /**
   * The record, tombstones and expired records included: an expired record is the delete its expiry made, kept
   * until purge as a tombstone is (see decidePut); the node layer answers it as absent.
   */
  get(key: string): Promise<StoredRecord | undefined>;
  /**
   * The same answer as get, returned at once: present only on a store whose read needs no I/O and no wait
   * (memory), so a read of this node's copy alone costs no promise. Throws as get rejects.
   */
  readonly getSync?: (key: string) => StoredRecord | undefined;
  /**
   * Each key's record as get gives it, in order, read together (sqlite: one read transaction): what a peer's
   * merged read asks for, with one promise for all its keys instead of one each. Fails whole as get would.
   */
  getMany(keys: readonly string[]): Promise<(StoredRecord | undefined)[]>;
  /** Stores the record if its version is newer (last write wins); resolves only once it is durable. */
  put(record: StoredRecord): Promise<PutOutcome>;
  /**
   * Each record as put would store it, in order, with one promise for all (sqlite and fs: in the turn's batch):
   * what a peer's merged write takes. Checks every record's limits first: one past them fails the call whole,
   * and nothing is stored.
   */
  putMany(records: readonly StoredRecord[]): Promise<PutOutcome[]>;
  /**
   * Live keys in code point order: up to `limit` of them from `offset`, fewer when their keys and values
   * would pass `bytesMax` UTF-8 bytes (always at least one). Entries past the budget are not even read.
   */
  page(offset: number, limit: number, bytesMax: number): Promise<KeyPage>;
  /**
   * Live keys after `afterKey` in code point order, up to `limit` within `bytesMax` (always at least
   * one): the cursor form of page, which costs the page at any depth.
   */
  keysAfter(afterKey: string, limit: number, bytesMax: number): Promise<KeyEntry[]>;
  /** Live keys: kept up to date by sqlite and memory, not counted on each call. */
  count(): Promise<number>;
  /**
   * Records after `afterKey` (or from the start) in code point order, tombstones and expired records included:
   * what rebalancing and anti-entropy walk through, one bounded batch at a time.
   */
  scan(afterKey: string | undefined, limit: number): Promise<StoredRecord[]>;
  /**
   * Records whose ring position (XXH64 of the key) lies in `range`, in ring order (ties by key) after
   * the record of `afterKey` (or from the range's start), tombstones and expired records included: how
   * anti-entropy and rebalancing read one stretch of the ring without walking the rest.
   */
  scanRing(range: RingRange, afterKey: string | undefined, limit: number): Promise<StoredRecord[]>;
  /**
   * Per segment of the hash space (SEGMENT_COUNT of them), the sum of the fingerprints of the records
   * stored there (tombstones and expired records not purged yet included). sqlite and memory keep them
   * up to date with every write; the array may be live, so read it before the next await.
   */
  segmentDigests(): Promise<Uint32Array>;
  /**
   * Recounts the digests and live counts of `count` segments from `first` out of the records
   * themselves and corrects those that disagree: the slow guard against records lost or changed
   * behind the store's back (a damaged or hand-edited file). Returns how many segments were wrong.
   */
  verifySegments(first: number, count: number): Promise<number>;
  /**
   * Removes the record only if it still holds exactly this version: a node drops a key it no longer
   * replicates without losing a newer write that arrived meanwhile. True when removed.
   */
  discard(key: string, version: Version): Promise<boolean>;
  /**
   * Drops tombstones written before `beforeMs` and records that expired before it; returns how many. A record that
   * expired since keeps its key, version and expiry, its value dropped (purgedForm). sqlite finds them by index.
   */
  purge(beforeMs: number): Promise<number>;
  /** Throws a StoreError when the store cannot serve. */
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface BackendOptions {
  readonly valueBytesMax: number;
  /** Injected so tests can move time for expiry; main passes Date.now. */
  readonly clock: () => number;
  /**
   * How long after its expiry an expired record keeps its value (EXPIRED_VALUE_KEPT_MS_MIN when left out, never less):
   * longer than any clock difference the cluster tolerates, so a node whose clock is behind never reads it as an
   * empty value. Main passes the larger of the minimum and twice MAX_CLOCK_SKEW_MS.
   */
  readonly expiredValueKeptMs?: number;
}
