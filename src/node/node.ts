// The coordinator: routes each key to its owner on the ring and serves reads and writes against the store.
import type { Backend } from "../store/backend.ts";
import { KEY_BYTES_MAX, utf8Bytes } from "../store/limits.ts";
import { isLive, type PutOutcome, type StoredRecord, type Version } from "../store/record.ts";
import { ownerOf, type Ring } from "../ring/ring.ts";
import { NodeError, fromStoreError } from "./errors.ts";
import type { HybridClock } from "./hlc.ts";

/** The longest TTL accepted: ten years, far past any cache use and well inside safe integers. */
export const TTL_MS_MAX = 10 * 365 * 24 * 3600 * 1000;
/** Retries of a local write that lost to a newer stored version; each retry ticks past that version. */
const WRITE_ATTEMPTS_MAX = 3;
/** SPEC §4: /keys pages hold at most 100 keys. */
export const PAGE_SIZE_MAX = 100;
/** Page numbers stop here; it keeps offsets exact and rejects absurd values clearly. */
export const PAGE_MAX = 1_000_000_000;

export interface NodeOptions {
  readonly nodeUrl: string;
  readonly store: Backend;
  readonly ring: Ring;
  readonly clock: HybridClock;
  readonly wallClock: () => number;
  readonly valueBytesMax: number;
  readonly replicationFactor: number;
}

export interface KeysPage {
  readonly keys: { key: string; value: string; size: number }[];
  readonly page: number;
  readonly pageSize: number;
  readonly total: number;
  readonly totalPages: number;
}

export class LimeNode {
  readonly nodeUrl: string;
  readonly store: Backend;
  readonly replicationFactor: number;
  readonly valueBytesMax: number;
  /** Swapped whole on every membership change; readers never see a half-built ring. */
  ring: Ring;
  private readonly clock: HybridClock;
  private readonly wallClock: () => number;

  constructor(options: NodeOptions) {
    this.nodeUrl = options.nodeUrl;
    this.store = options.store;
    this.ring = options.ring;
    this.clock = options.clock;
    this.wallClock = options.wallClock;
    this.valueBytesMax = options.valueBytesMax;
    this.replicationFactor = options.replicationFactor;
  }

  async get(key: string): Promise<{ value: string; nodeUrl: string }> {
    this.checkKey(key);
    this.assertLocalOwner(key);
    const record = await this.store.get(key).catch(rethrowStoreError);
    if (!isLive(record, this.wallClock())) throw new NodeError("not_found", `key not found`);
    return { value: record.value, nodeUrl: this.nodeUrl };
  }

  async set(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    this.checkKey(key);
    if (!value.isWellFormed()) throw new NodeError("bad_request", "value must be valid Unicode with no lone surrogate");
    if (utf8Bytes(value) > this.valueBytesMax) throw new NodeError("too_large", `value is over the limit of ${this.valueBytesMax} UTF-8 bytes`);
    if (ttlMs !== undefined && !(Number.isSafeInteger(ttlMs) && ttlMs >= 1 && ttlMs <= TTL_MS_MAX)) {
      throw new NodeError("bad_request", `ttlMs must be an integer from 1 to ${TTL_MS_MAX}`);
    }
    this.assertLocalOwner(key);
    const expiresAtMs = ttlMs === undefined ? undefined : this.wallClock() + ttlMs;
    await this.write((version) => ({ key, value, version, tombstone: false, expiresAtMs }));
  }

  /** True when a live value was deleted; the tombstone is written either way so replicas agree. */
  async del(key: string): Promise<boolean> {
    this.checkKey(key);
    this.assertLocalOwner(key);
    const outcome = await this.write((version) => ({ key, value: "", version, tombstone: true, expiresAtMs: undefined }));
    return outcome.replacedLive;
  }

  /**
   * Writes a record under a fresh version. If the store holds a newer version (the wall clock went
   * back across a restart, or a write raced this one), the clock learns it and the write is retried,
   * so an acknowledged write is always applied.
   */
  private async write(make: (version: Version) => StoredRecord): Promise<PutOutcome> {
    for (let attempt = 1; ; attempt++) {
      const record = make(this.clock.tick());
      const outcome = await this.store.put(record).catch(rethrowStoreError);
      if (outcome.applied) return outcome;
      const stored = await this.store.get(record.key).catch(rethrowStoreError);
      if (stored !== undefined) this.clock.observe(stored.version);
      if (attempt >= WRITE_ATTEMPTS_MAX) throw new NodeError("unavailable", "the write lost to newer versions too many times; retry it");
    }
  }

  async keys(page: number, pageSize: number): Promise<KeysPage> {
    if (!(Number.isSafeInteger(page) && page >= 1 && page <= PAGE_MAX)) throw new NodeError("bad_request", `page must be an integer from 1 to ${PAGE_MAX}`);
    if (!(Number.isSafeInteger(pageSize) && pageSize >= 1 && pageSize <= PAGE_SIZE_MAX)) {
      throw new NodeError("bad_request", `pageSize must be an integer from 1 to ${PAGE_SIZE_MAX}`);
    }
    const { entries, total } = await this.store.page((page - 1) * pageSize, pageSize).catch(rethrowStoreError);
    return {
      keys: entries.map(({ key, value }) => ({ key, value, size: utf8Bytes(value) })),
      page,
      pageSize,
      total,
      totalPages: Math.ceil(total / pageSize),
    };
  }

  private checkKey(key: string): void {
    if (key === "") throw new NodeError("bad_request", "key must not be empty");
    // URL parsers drop "." and ".." path segments (even as %2E), so such a key could be set but never read back.
    if (key === "." || key === "..") throw new NodeError("bad_request", `key "${key}" cannot be addressed in a URL path; choose another key`);
    // A lone surrogate has no UTF-8 form: SQLite would store it as U+FFFD and merge it with that key.
    if (!key.isWellFormed()) throw new NodeError("bad_request", "key must be valid Unicode with no lone surrogate");
    if (utf8Bytes(key) > KEY_BYTES_MAX) throw new NodeError("too_large", `key is over the limit of ${KEY_BYTES_MAX} UTF-8 bytes`);
  }

  /** Until forwarding exists every ring this node builds holds only itself; anything else is a bug. */
  private assertLocalOwner(key: string): void {
    const owner = ownerOf(this.ring, key);
    if (owner !== this.nodeUrl) throw new Error(`invariant: ring names ${String(owner)} for a key on standalone node ${this.nodeUrl}`);
  }
}

function rethrowStoreError(error: unknown): never {
  throw fromStoreError(error);
}
