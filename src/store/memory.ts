// The memory backend: a Map, lost on restart; the reference the other backends are measured against.
import type { Backend, BackendOptions } from "./backend.ts";
import { StoreError } from "./errors.ts";
import { assertWithinLimits } from "./limits.ts";
import { takeWithinBytes } from "./page-bytes.ts";
import { compareKeys, compareVersions, decidePut, isExpired, isLive, type KeyPage, type PutOutcome, type StoredRecord, type Version } from "./record.ts";

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

  constructor(private readonly options: BackendOptions) {}

  async get(key: string): Promise<StoredRecord | undefined> {
    this.assertOpen();
    const record = this.records.get(key);
    return record === undefined || isExpired(record, this.options.clock()) ? undefined : record;
  }

  async put(record: StoredRecord): Promise<PutOutcome> {
    this.assertOpen();
    assertWithinLimits(record, this.options.valueBytesMax);
    const now = this.options.clock();
    const existing = this.records.get(record.key);
    const outcome = decidePut(existing, record, now);
    if (!outcome.applied) return outcome;
    this.records.set(record.key, record);
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

  async scan(afterKey: string | undefined, limit: number): Promise<StoredRecord[]> {
    this.assertOpen();
    const now = this.options.clock();
    this.allKeys ??= [...this.records.keys()].sort(compareKeys);
    const keys = this.allKeys;
    // Binary search for the first key after `afterKey`.
    let lo = 0;
    let hi = afterKey === undefined ? 0 : keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(keys[mid]!, afterKey!) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const out: StoredRecord[] = [];
    for (let i = lo; i < keys.length && out.length < limit; i++) {
      const record = this.records.get(keys[i]!);
      if (record !== undefined && !isExpired(record, now)) out.push(record);
    }
    return out;
  }

  async count(): Promise<number> {
    this.assertOpen();
    return this.liveKeys(this.options.clock()).length;
  }

  async discard(key: string, version: Version): Promise<boolean> {
    this.assertOpen();
    const record = this.records.get(key);
    if (record === undefined || compareVersions(record.version, version) !== 0) return false;
    this.records.delete(key);
    this.allKeys = undefined;
    this.sortedKeys = undefined;
    return true;
  }

  async purge(beforeMs: number): Promise<number> {
    this.assertOpen();
    const now = this.options.clock();
    let purged = 0;
    for (const [key, record] of this.records) {
      if (isExpired(record, now) || (record.tombstone && record.version.wallMs < beforeMs)) {
        this.records.delete(key);
        purged++;
      }
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

  private liveKeys(now: number): string[] {
    // Expiry changes liveness without a write, so with expiring records the cache is filtered on read.
    this.sortedKeys ??= [...this.records.values()].filter((r) => isLive(r, now)).map((r) => r.key).sort(compareKeys);
    return this.anyExpiry ? this.sortedKeys.filter((key) => isLive(this.records.get(key), now)) : this.sortedKeys;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("closed", "the memory store is closed");
  }
}
