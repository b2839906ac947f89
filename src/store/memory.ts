// The memory backend: a Map, lost on restart; the reference the other backends are measured against.
import type { Backend, BackendOptions } from "./backend.ts";
import { StoreError } from "./errors.ts";
import { assertWithinLimits } from "./limits.ts";
import { takeWithinBytes } from "./page-bytes.ts";
import { compareKeys, compareVersions, decidePut, EXPIRED_VALUE_KEPT_MS_MIN, isExpired, isLive, purgedForm, storedForm, type KeyEntry, type KeyPage, type PutOutcome, type StoredRecord, type Version } from "./record.ts";
import { ringSlice } from "./ring-order.ts";
import { recount, SEGMENT_COUNT, SegmentDigests, segmentOf } from "./segments.ts";
import { segmentsOf } from "./segment-ranges.ts";
import { ExpiryQueue } from "./expiry-queue.ts";
import type { RingRange } from "../ring/range.ts";

export class MemoryBackend implements Backend {
  readonly kind = "memory";
  private readonly records = new Map<string, StoredRecord>();
  /** Live keys in order, rebuilt lazily after a key appears or disappears. */
  private sortedKeys: string[] | undefined;
  /** Every stored key (tombstones too) in order, for scans; rebuilt lazily after a key appears or goes. */
  private allKeys: string[] | undefined;
  private closed = false;
  /** Whether any record carries an expiry; when none does, the key cache needs no filtering. */
  private anyExpiry = false;
  private readonly digests = new SegmentDigests();
  /** Keys per segment, so a ring range reads only its own segments. */
  private readonly bySegment: (Set<string> | undefined)[] = [];
  /** Records that are not tombstones, expired or not. */
  private liveTotal = 0;
  /** Keys of tombstones and of records with an expiry: what purge and count look at, instead of every record. */
  private readonly tombstones = new Set<string>();
  private readonly expiring = new Set<string>();
  /** Records with an expiry not yet seen expired, by when they expire; and the keys of those seen expired (not tombstones). */
  private readonly pending = new ExpiryQueue();
  private readonly expired = new Set<string>();

  /** See BackendOptions.expiredValueKeptMs. */
  private readonly keptMs: number;

  constructor(private readonly options: BackendOptions) {
    this.keptMs = Math.max(EXPIRED_VALUE_KEPT_MS_MIN, options.expiredValueKeptMs ?? 0);
  }

  async get(key: string): Promise<StoredRecord | undefined> {
    return this.read(key);
  }

  readonly getSync = (key: string): StoredRecord | undefined => this.read(key);

  async getMany(keys: readonly string[]): Promise<(StoredRecord | undefined)[]> {
    return keys.map((key) => this.read(key));
  }

  private read(key: string): StoredRecord | undefined {
    this.assertOpen();
    // Expired records too, as tombstones are: the node layer tells them from live ones (see decidePut).
    return this.records.get(key);
  }

  async putMany(records: readonly StoredRecord[]): Promise<PutOutcome[]> {
    this.assertOpen();
    for (const record of records) assertWithinLimits(record, this.options.valueBytesMax);
    return records.map((record) => this.apply(record));
  }

  async put(record: StoredRecord): Promise<PutOutcome> {
    this.assertOpen();
    assertWithinLimits(record, this.options.valueBytesMax);
    return this.apply(record);
  }

  private apply(incoming: StoredRecord): PutOutcome {
    const now = this.options.clock();
    const existing = this.records.get(incoming.key);
    const outcome = decidePut(existing, incoming, now);
    if (!outcome.applied) return outcome;
    const record = storedForm(incoming, now, this.keptMs);
    this.records.set(record.key, record);
    this.account(existing, record);
    if (existing === undefined) this.allKeys = undefined;
    if (record.expiresAtMs !== undefined) this.anyExpiry = true;
    if (isLive(existing, now) !== isLive(record, now)) this.sortedKeys = undefined;
    return outcome;
  }

  async page(offset: number, limit: number, bytesMax: number): Promise<KeyPage> {
    this.assertOpen();
    const now = this.options.clock();
    const live = this.liveKeys(now);
    const entries = live.slice(offset, offset + limit).map((key) => ({ key, value: this.records.get(key)!.value }));
    return { entries: takeWithinBytes(entries, limit, bytesMax), total: live.length };
  }

  async keysAfter(afterKey: string, limit: number, bytesMax: number): Promise<KeyEntry[]> {
    this.assertOpen();
    const live = this.liveKeys(this.options.clock());
    const start = firstAfter(live, afterKey);
    const entries = live.slice(start, start + limit).map((key) => ({ key, value: this.records.get(key)!.value }));
    return takeWithinBytes(entries, limit, bytesMax);
  }

  async scan(afterKey: string | undefined, limit: number): Promise<StoredRecord[]> {
    this.assertOpen();
    this.allKeys ??= [...this.records.keys()].sort(compareKeys);
    const keys = this.allKeys;
    const lo = afterKey === undefined ? 0 : firstAfter(keys, afterKey);
    const out: StoredRecord[] = [];
    for (let i = lo; i < keys.length && out.length < limit; i++) {
      const record = this.records.get(keys[i]!);
      if (record !== undefined) out.push(record);
    }
    return out;
  }

  /** Live keys: costs the records that expired since the last count, not every record with an expiry. */
  async count(): Promise<number> {
    this.assertOpen();
    this.pending.takeDue(this.options.clock(), (key, atMs) => {
      const record = this.records.get(key);
      // An entry left by a record since written over or gone is stale: only the record as it is counts.
      if (record !== undefined && !record.tombstone && record.expiresAtMs === atMs) this.expired.add(key);
    });
    return this.liveTotal - this.expired.size;
  }

  async scanRing(range: RingRange, afterKey: string | undefined, limit: number): Promise<StoredRecord[]> {
    this.assertOpen();
    const out: StoredRecord[] = [];
    // Segment by segment in ring order, so a page reads about `limit` records, not the range.
    for (const segment of segmentsOf(range, afterKey === undefined ? undefined : segmentOf(afterKey))) {
      const candidates: StoredRecord[] = [];
      for (const key of this.bySegment[segment] ?? []) candidates.push(this.records.get(key)!);
      out.push(...ringSlice(candidates, range, afterKey, limit - out.length));
      if (out.length >= limit) break;
    }
    return out;
  }

  async segmentDigests(): Promise<Uint32Array> {
    this.assertOpen();
    return this.digests.sums;
  }

  async verifySegments(first: number, count: number): Promise<number> {
    this.assertOpen();
    const last = Math.min(SEGMENT_COUNT, first + count);
    const records: StoredRecord[] = [];
    for (let segment = first; segment < last; segment++) for (const key of this.bySegment[segment] ?? []) records.push(this.records.get(key)!);
    const counted = recount(records, first, last - first);
    let wrong = 0;
    for (let i = 0; i < last - first; i++) {
      if (this.digests.sums[first + i] === counted.sums[i]) continue;
      this.digests.sums[first + i] = counted.sums[i]!;
      wrong++;
    }
    return wrong;
  }

  async discard(key: string, version: Version): Promise<boolean> {
    this.assertOpen();
    const record = this.records.get(key);
    if (record === undefined || compareVersions(record.version, version) !== 0) return false;
    this.records.delete(key);
    this.account(record, undefined);
    this.allKeys = undefined;
    this.sortedKeys = undefined;
    return true;
  }

  async purge(beforeMs: number): Promise<number> {
    this.assertOpen();
    const now = this.options.clock();
    let purged = 0;
    for (const key of [...this.tombstones, ...this.expiring]) {
      const record = this.records.get(key);
      if (record === undefined) continue;
      const form = purgedForm(record, now, beforeMs, this.keptMs);
      if (form === "blank") this.records.set(key, { ...record, value: "" });
      if (form !== "remove") continue;
      this.records.delete(key);
      this.account(record, undefined);
      purged++;
    }
    if (purged > 0) {
      this.sortedKeys = undefined;
      this.allKeys = undefined;
    }
    return purged;
  }

  async check(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** One key's change in the figures kept per write: `before` left the store, `after` entered it. */
  private account(before: StoredRecord | undefined, after: StoredRecord | undefined): void {
    const key = (before ?? after)!.key;
    this.digests.replace(before, after);
    this.liveTotal += (after !== undefined && !after.tombstone ? 1 : 0) - (before !== undefined && !before.tombstone ? 1 : 0);
    const segment = segmentOf(key);
    this.expired.delete(key);
    if (after === undefined) {
      this.bySegment[segment]?.delete(key);
      this.tombstones.delete(key);
      this.expiring.delete(key);
      return;
    }
    (this.bySegment[segment] ??= new Set()).add(key);
    if (after.tombstone) this.tombstones.add(key);
    else this.tombstones.delete(key);
    if (after.expiresAtMs !== undefined) this.expiring.add(key);
    else this.expiring.delete(key);
    if (after.expiresAtMs !== undefined && !after.tombstone) {
      this.pending.push(after.expiresAtMs, key);
      // Entries of records written over pile up until they are due; past twice the records with an expiry, start again.
      if (this.pending.size > 2 * this.expiring.size + 1024) this.pending.rebuild(this.pendingEntries());
    }
  }

  /** Every record with an expiry not yet counted as expired, for a rebuilt queue. */
  private *pendingEntries(): Iterable<[string, number]> {
    for (const key of this.expiring) {
      const record = this.records.get(key)!;
      if (!record.tombstone && record.expiresAtMs !== undefined && !this.expired.has(key)) yield [key, record.expiresAtMs];
    }
  }

  private liveKeys(now: number): string[] {
    // Expiry changes liveness without a write, so with expiring records the cache is filtered on read.
    this.sortedKeys ??= [...this.records.values()].filter((r) => isLive(r, now)).map((r) => r.key).sort(compareKeys);
    return this.anyExpiry ? this.sortedKeys.filter((key) => isLive(this.records.get(key), now)) : this.sortedKeys;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("closed", "the memory store is closed");
  }
}

/** Binary search: the index of the first key after `afterKey` in a list sorted by compareKeys. */
function firstAfter(keys: readonly string[], afterKey: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid]!, afterKey) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
