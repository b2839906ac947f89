// What every backend stores per key: the value plus what replication needs (version, tombstone, expiry).

/** A hybrid logical clock timestamp; the writing node breaks ties so every replica picks the same winner. */
export interface Version {
  readonly wallMs: number;
  readonly counter: number;
  readonly node: string;
}

export interface StoredRecord {
  readonly key: string;
  /** Empty for tombstones. */
  readonly value: string;
  readonly version: Version;
  readonly tombstone: boolean;
  /** Absolute expiry in ms since the epoch, or undefined for no expiry. */
  readonly expiresAtMs: number | undefined;
}

export interface KeyEntry {
  readonly key: string;
  readonly value: string;
}

export interface KeyPage {
  readonly entries: readonly KeyEntry[];
  /** Live keys in the whole store, not just this page. */
  readonly total: number;
}

export interface PutOutcome {
  /** False when the stored version was newer or equal: last write wins. */
  readonly applied: boolean;
  /** Whether a live (not deleted, not expired) value was there before. */
  readonly replacedLive: boolean;
}

export function compareVersions(a: Version, b: Version): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

export function isLive(record: StoredRecord | undefined, nowMs: number): record is StoredRecord {
  return record !== undefined && !record.tombstone && !isExpired(record, nowMs);
}

export function isExpired(record: StoredRecord, nowMs: number): boolean {
  return record.expiresAtMs !== undefined && record.expiresAtMs <= nowMs;
}

/**
 * isLive and isExpired with the clock read only for a record that expires: most have no expiry, and a clock read is
 * a native call (every read of a record passes here).
 */
export function isLiveNow(record: StoredRecord | undefined, clock: () => number): record is StoredRecord {
  return record !== undefined && !record.tombstone && !isExpiredNow(record, clock);
}

export function isExpiredNow(record: StoredRecord, clock: () => number): boolean {
  return record.expiresAtMs !== undefined && isExpired(record, clock());
}

/**
 * Decides a write against what is stored, the same way in every backend: the newer version wins. An expired record
 * is a delete that happened at its expiry, kept like a tombstone until purged (see Backend.purge): an older version
 * from a replica that missed the expiring write must not bring the key back. A client's write after the expiry is
 * newer (a coordinator whose clock is behind learns the version from the replica that refused it, and retries).
 */
export function decidePut(existing: StoredRecord | undefined, incoming: StoredRecord, nowMs: number): PutOutcome {
  const replacedLive = isLive(existing, nowMs);
  const applied = existing === undefined || compareVersions(incoming.version, existing.version) > 0;
  return { applied, replacedLive: applied && replacedLive };
}

/**
 * How long after its expiry an expired record keeps its value, at least (BackendOptions.expiredValueKeptMs): a node
 * whose clock is behind still reads the record as live for as long as it is behind, so its value must still be there.
 */
export const EXPIRED_VALUE_KEPT_MS_MIN = 60_000;

/**
 * What purge does to an expired record: past `beforeMs` (its expiry older than the tombstone bound) it goes; until
 * then it stays as the delete it is, and once it expired `keptMs` ago its value is dropped (the version, the
 * tombstone flag and so its fingerprint kept).
 */
export function purgedForm(record: StoredRecord, nowMs: number, beforeMs: number, keptMs: number): "keep" | "blank" | "remove" {
  if (record.tombstone) return record.version.wallMs < beforeMs ? "remove" : "keep";
  if (record.expiresAtMs === undefined || record.expiresAtMs > nowMs) return "keep";
  if (record.expiresAtMs < beforeMs) return "remove";
  return record.value === "" || record.expiresAtMs > nowMs - keptMs ? "keep" : "blank";
}

/** A record as stored: one that arrives expired `keptMs` ago or more (a hand-off, a repair) is stored without its value. */
export function storedForm(record: StoredRecord, nowMs: number, keptMs: number): StoredRecord {
  return record.expiresAtMs !== undefined && record.value !== "" && record.expiresAtMs <= nowMs - keptMs ? { ...record, value: "" } : record;
}

/**
 * Key order for paging: by code point, which is UTF-8 byte order and SQLite's BINARY collation.
 * Plain `<` compares UTF-16 units and would disagree for characters above U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (a code point above U+FFFF) sorts after every BMP character in code point order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
