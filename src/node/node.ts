// The coordinator: routes each key to its owner on the ring, forwarding at most one hop, and serves its own keys.
import type { MemberTable, MembershipChange } from "../membership/member-table.ts";
import { buildRing, ownerOf, type Ring } from "../ring/ring.ts";
import type { Backend } from "../store/backend.ts";
import { utf8Bytes } from "../store/limits.ts";
import { isLive, type PutOutcome, type StoredRecord, type Version } from "../store/record.ts";
import { checkKey, checkPage, checkTtl, checkValue } from "./checks.ts";
import { NodeError, fromStoreError } from "./errors.ts";
import type { HybridClock } from "./hlc.ts";

export { PAGE_MAX, PAGE_SIZE_MAX, TTL_MS_MAX } from "./checks.ts";

/** Retries of a local write that lost to a newer stored version; each retry ticks past that version. */
const WRITE_ATTEMPTS_MAX = 3;

/** The direct endpoints of other nodes; the real one speaks HTTP with timeouts, tests may fake it. */
export interface Peers {
  getDirect(target: string, key: string): Promise<{ value: string; nodeUrl: string } | undefined>;
  setDirect(target: string, key: string, value: string, ttlMs: number | undefined): Promise<void>;
  delDirect(target: string, key: string): Promise<boolean>;
}

export interface NodeOptions {
  readonly nodeUrl: string;
  readonly store: Backend;
  readonly members: MemberTable;
  readonly peers: Peers;
  readonly vnodesPerNode: number;
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
  readonly members: MemberTable;
  readonly replicationFactor: number;
  readonly valueBytesMax: number;
  /** Swapped whole on every membership change; readers never see a half-built ring. */
  ring: Ring;
  private readonly peers: Peers;
  private readonly vnodesPerNode: number;
  private readonly clock: HybridClock;
  private readonly wallClock: () => number;

  constructor(options: NodeOptions) {
    this.nodeUrl = options.nodeUrl;
    this.store = options.store;
    this.members = options.members;
    this.peers = options.peers;
    this.vnodesPerNode = options.vnodesPerNode;
    this.clock = options.clock;
    this.wallClock = options.wallClock;
    this.valueBytesMax = options.valueBytesMax;
    this.replicationFactor = options.replicationFactor;
    this.ring = buildRing(this.members.aliveUrls(), this.vnodesPerNode);
    this.members.onChange((changes) => this.rebuildRing(changes));
  }

  async get(key: string): Promise<{ value: string; nodeUrl: string }> {
    checkKey(key);
    const owner = this.ownerOf(key);
    if (owner === this.nodeUrl) return this.localGet(key);
    const found = await this.peers.getDirect(owner, key);
    if (found === undefined) throw notFound();
    return found;
  }

  async set(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    checkKey(key);
    checkValue(value, this.valueBytesMax);
    checkTtl(ttlMs);
    const owner = this.ownerOf(key);
    if (owner === this.nodeUrl) return this.localSet(key, value, ttlMs);
    return this.peers.setDirect(owner, key, value, ttlMs);
  }

  /** True when a live value was deleted. */
  async del(key: string): Promise<boolean> {
    checkKey(key);
    const owner = this.ownerOf(key);
    if (owner === this.nodeUrl) return this.localDel(key);
    return this.peers.delDirect(owner, key);
  }

  /** The direct endpoints land here: act on this node's store, never re-route. */
  async localGet(key: string): Promise<{ value: string; nodeUrl: string }> {
    checkKey(key);
    const record = await this.store.get(key).catch(rethrowStoreError);
    if (!isLive(record, this.wallClock())) throw notFound();
    return { value: record.value, nodeUrl: this.nodeUrl };
  }

  async localSet(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    checkKey(key);
    checkValue(value, this.valueBytesMax);
    checkTtl(ttlMs);
    const expiresAtMs = ttlMs === undefined ? undefined : this.wallClock() + ttlMs;
    await this.write((version) => ({ key, value, version, tombstone: false, expiresAtMs }));
  }

  /** The tombstone is written whether or not a value was there, so every copy agrees. */
  async localDel(key: string): Promise<boolean> {
    checkKey(key);
    const outcome = await this.write((version) => ({ key, value: "", version, tombstone: true, expiresAtMs: undefined }));
    return outcome.replacedLive;
  }

  async keys(page: number, pageSize: number): Promise<KeysPage> {
    checkPage(page, pageSize);
    const { entries, total } = await this.store.page((page - 1) * pageSize, pageSize).catch(rethrowStoreError);
    return {
      keys: entries.map(({ key, value }) => ({ key, value, size: utf8Bytes(value) })),
      page,
      pageSize,
      total,
      totalPages: Math.ceil(total / pageSize),
    };
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

  private ownerOf(key: string): string {
    const owner = ownerOf(this.ring, key);
    // This node is always in its own ring, so an empty ring is a broken invariant.
    if (owner === undefined) throw new Error(`invariant: node ${this.nodeUrl} has an empty ring`);
    return owner;
  }

  /** Joins, deaths and revivals change who is in the ring; the new ring replaces the old in one assignment. */
  private rebuildRing(changes: readonly MembershipChange[]): void {
    const wasInRing = (c: MembershipChange) => c.from === "active" || c.from === "stale";
    const moved = changes.some((c) => wasInRing(c) !== (c.to !== "dead"));
    if (moved) this.ring = buildRing(this.members.aliveUrls(), this.vnodesPerNode);
  }
}

function notFound(): NodeError {
  return new NodeError("not_found", "key not found");
}

function rethrowStoreError(error: unknown): never {
  throw fromStoreError(error);
}
