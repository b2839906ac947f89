// The coordinator: every node takes any request and runs it against the key's replicas with quorums.
import type { MemberTable } from "../membership/member-table.ts";
import { buildRing, replicasOf, type Ring } from "../ring/ring.ts";
import { arcsOf, type Arc } from "../ring/arcs.ts";
import type { Backend } from "../store/backend.ts";
import { KEY_BYTES_MAX, utf8Bytes } from "../store/limits.ts";
import { compareVersions, isLiveNow, type PutOutcome, type StoredRecord, type Version } from "../store/record.ts";
import { checkKey, checkPage, checkTtl, checkValue } from "./checks.ts";
import { NodeError, fromStoreError } from "./errors.ts";
import type { HybridClock } from "./hlc.ts";
import { quorumOf, type ReadResult, type Replication } from "./replication.ts";

export { PAGE_MAX, PAGE_SIZE_MAX, TTL_MS_MAX } from "./checks.ts";

/** Attempts of a write that lost to a newer version held by a replica; each retry ticks past it. */
const WRITE_ATTEMPTS_MAX = 3;

export interface NodeOptions {
  readonly nodeUrl: string;
  readonly store: Backend;
  readonly members: MemberTable;
  readonly replication: Replication;
  readonly vnodesPerNode: number;
  readonly clock: HybridClock;
  readonly wallClock: () => number;
  readonly valueBytesMax: number;
  readonly replicationFactor: number;
  /** 0 means a majority of the key's replicas. */
  readonly writeQuorum: number;
  readonly readQuorum: number;
  /**
   * Whether this node has joined its cluster; until then it coordinates no client request. Left out,
   * it has (a node with no seeds is a cluster of its own). See main.ts.
   */
  readonly joined?: () => boolean;
  /**
   * Why this node must not coordinate a request of this kind right now (a clock beyond the skew for a write,
   * a view of the cluster held from before a pause), or undefined when it may. Left out, it always may.
   */
  readonly refusal?: (kind: RequestKind) => string | undefined;
  /** Why a write must not go out because this node's wall clock stepped (part of `refusal`): asked again once a write's version is made. */
  readonly stepRefusal?: () => string | undefined;
  /** Whether a peer is down for requests (held dead, or not answering this node's calls); for the views. Left out, none is. */
  readonly isDown?: (nodeUrl: string) => boolean;
  /** Whether a version's wall time lies within now + MAX_CLOCK_SKEW_MS (restored records are held to it). Left out, every one is. */
  readonly acceptsWallMs?: (wallMs: number) => boolean;
}

/** What a restored record did: stored, or kept out because its replicas already held that version or a newer one. */
export type RestoreOutcome = "restored" | "kept";

/** What a coordinated request does: a read, or a write (set or delete). */
export type RequestKind = "read" | "write";

export interface KeysPage {
  readonly keys: { key: string; value: string; size: number }[];
  readonly page: number;
  readonly pageSize: number;
  readonly total: number;
  readonly totalPages: number;
  /** True when KEYS_PAGE_BYTES_MAX cut the page short of pageSize entries; the rest starts at the next offset (see http/kv/paging.ts). */
  readonly truncated: boolean;
  /** The cursor for the next page (`?after=`): the page's last key while keys follow it, else null. */
  readonly next: string | null;
}

/** A page of the cursor form (`?after=KEY`): no page numbers, which would cost a count of what lies before. */
export type KeysAfterPage = Omit<KeysPage, "page" | "totalPages">;

/**
 * A /keys page carries at most this many bytes of keys and values (always at least one entry): 100
 * values of 1 MiB made one 68 MiB answer. Three values at the default 1 MiB limit fit (four just under
 * it), and a full page of 100 whenever keys and values average under about 40 KiB.
 */
export const KEYS_PAGE_BYTES_MAX = 4 * 1024 * 1024;

export type RingListener = (ring: Ring) => void;

/**
 * For this long after this node's ring changed, a read waits for every replica it asks (each within
 * the forward timeout), not only the first quorum. While rings differ between nodes and data is
 * still streaming, a write acknowledged under the old ring and a read quorum under the new one can
 * miss each other; with one member more or less, the old write quorum and the new replica set share
 * a node, so asking them all finds the newest version. The chaos test saw such a stale read right
 * after a graceful leave. The price is a read at the slowest replica's pace during that window.
 */
export const RING_CHANGE_READ_ALL_MS = 30_000;

export class LimeNode {
  readonly nodeUrl: string;
  readonly store: Backend;
  readonly members: MemberTable;
  readonly replication: Replication;
  readonly replicationFactor: number;
  readonly writeQuorum: number;
  readonly readQuorum: number;
  readonly valueBytesMax: number;
  /** Swapped whole on every membership change; readers never see a half-built ring. */
  ring: Ring;
  private readonly vnodesPerNode: number;
  readonly clock: HybridClock;
  private readonly wallClock: () => number;
  /** When this node's ring last changed; a starting node's ring changes as gossip brings its members. */
  private ringChangedAtMs = -Infinity;
  private readonly ringListeners: RingListener[] = [];
  private readonly arcsByRing = new WeakMap<Ring, readonly Arc[]>();
  private readonly joined: () => boolean;
  private readonly refusal: (kind: RequestKind) => string | undefined;
  private readonly stepRefusal: () => string | undefined;
  /** Whether requests skip this peer now: held dead by gossip or not answering this node's calls. */
  readonly isDown: (nodeUrl: string) => boolean;
  private readonly acceptsWallMs: (wallMs: number) => boolean;
  /** Latched: a node that has joined once stays joined, whatever happens to its peers later. */
  private hasJoined = false;

  constructor(options: NodeOptions) {
    this.nodeUrl = options.nodeUrl;
    this.store = options.store;
    this.members = options.members;
    this.replication = options.replication;
    this.vnodesPerNode = options.vnodesPerNode;
    this.clock = options.clock;
    this.wallClock = options.wallClock;
    this.valueBytesMax = options.valueBytesMax;
    this.replicationFactor = options.replicationFactor;
    this.writeQuorum = options.writeQuorum;
    this.readQuorum = options.readQuorum;
    this.joined = options.joined ?? (() => true);
    this.refusal = options.refusal ?? (() => undefined);
    this.stepRefusal = options.stepRefusal ?? (() => undefined);
    this.isDown = options.isDown ?? ((url) => this.members.isDead(url));
    this.acceptsWallMs = options.acceptsWallMs ?? (() => true);
    this.ring = buildRing(this.members.ringUrls(), this.vnodesPerNode);
    this.members.onChange(() => this.rebuildRing());
  }

  onRingChange(listener: RingListener): void {
    this.ringListeners.push(listener);
  }

  /** The ring's arcs and their replicas, computed once per ring. */
  arcsFor(ring: Ring = this.ring): readonly Arc[] {
    let arcs = this.arcsByRing.get(ring);
    if (arcs === undefined) {
      arcs = arcsOf(ring, this.replicationFactor);
      this.arcsByRing.set(ring, arcs);
    }
    return arcs;
  }

  /** The nodes that hold a key: the first REPLICATION_FACTOR distinct nodes clockwise on the ring. */
  replicasFor(key: string, ring: Ring = this.ring): string[] {
    return replicasOf(ring, key, this.replicationFactor);
  }

  get(key: string): Promise<{ value: string; nodeUrl: string }> {
    return this.readLive(key).then(valueFound);
  }

  /**
   * As get, but a read that needs no wait (this node the key's one replica, over a store that reads at once:
   * Replication.readSync) answers with the value itself, and a refusal of it is thrown; any other read is get's
   * promise. The hot paths take it: a promise per layer cost a memory node about 2 of its ~11 µs per GET.
   */
  getQuick(key: string): { value: string; nodeUrl: string } | Promise<{ value: string; nodeUrl: string }>;
  /**
   * getQuick, with the caller's next step run on the value in the same callback, and `failed` on a refusal that
   * comes later (one thrown at once is still thrown): one promise for a forwarded read.
   */
  getQuick<R>(key: string, then: (found: { value: string; nodeUrl: string }) => R, failed?: (error: unknown) => R | PromiseLike<R>): R | Promise<R>;
  getQuick(key: string, then?: (found: { value: string; nodeUrl: string }) => unknown, failed?: (error: unknown) => unknown): unknown {
    return this.readLiveQuick(key, then === undefined ? valueFound : (read) => then(valueFound(read)), failed);
  }

  /** A quorum read, as get, with the key's expiry (wall ms, or undefined for none): what TTL and PTTL answer. */
  lookup(key: string): Promise<{ value: string; nodeUrl: string; expiresAtMs: number | undefined }> {
    return this.readLive(key).then(({ record, from }) => ({ value: record.value, nodeUrl: from, expiresAtMs: record.expiresAtMs }));
  }

  /**
   * The key's live record and the replica it came from, or not_found. Plain promise callbacks rather than async
   * functions (every read passes here); a read of one replica is the store or peer call alone (Replication.read).
   */
  private readLive(key: string): Promise<LiveRead> {
    try {
      const found = this.readLiveQuick(key, (read) => read);
      return found instanceof Promise ? found : Promise.resolve(found);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * readLive, passed through `then` in the same callback (and a later failure through `failed`, when given), and
   * answered with the result itself when the read needs no wait; throws what readLive rejects with then.
   */
  private readLiveQuick<R>(key: string, then: (read: LiveRead) => R, failed?: (error: unknown) => R | PromiseLike<R>): R | Promise<R> {
    checkKey(key);
    const replicas = this.liveReplicas(key, "read");
    const atOnce = this.replication.readSync(key, replicas);
    if (atOnce !== undefined) return then(this.liveOnly(atOnce));
    // Only a read of more than one replica can wait for all (the clock is not read for a forwarded one).
    const waitForAll = replicas.length > 1 && this.wallClock() - this.ringChangedAtMs < RING_CHANGE_READ_ALL_MS;
    return this.replication.read(key, replicas, quorumOf(this.readQuorum, replicas.length), waitForAll, (read) => then(this.liveOnly(read)), failed);
  }

  /** The read itself when its record is live (no copy: every read passes here), else not_found. */
  private readonly liveOnly = (read: ReadResult): LiveRead => {
    if (!isLiveNow(read.record, this.wallClock)) throw notFound();
    return read as LiveRead;
  };

  async set(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    checkKey(key);
    checkValue(value, this.valueBytesMax);
    checkTtl(ttlMs);
    const expiresAtMs = ttlMs === undefined ? undefined : this.wallClock() + ttlMs;
    await this.replicate(key, (version) => ({ key, value, version, tombstone: false, expiresAtMs }));
  }

  /** True when a live value was deleted. The tombstone goes to every replica like a write. */
  async del(key: string): Promise<boolean> {
    checkKey(key);
    const outcomes = await this.replicate(key, (version) => ({ key, value: "", version, tombstone: true, expiresAtMs: undefined }));
    return [...outcomes.values()].some((outcome) => outcome.replacedLive);
  }

  /**
   * Writes a record from a backup under its own version, to its replicas with the write quorum, as a SET
   * would: a replica keeps whichever version is newer, so a restore never overwrites a later write (or
   * delete). The clock learns the version, so writes after it are newer still.
   */
  async restore(record: StoredRecord): Promise<RestoreOutcome> {
    checkKey(record.key);
    checkValue(record.value, this.valueBytesMax);
    if (!this.acceptsWallMs(record.version.wallMs)) throw new NodeError("clock_skew", "the record's version lies beyond this node's clock + MAX_CLOCK_SKEW_MS; a backup holds versions from the past");
    const replicas = this.liveReplicas(record.key, "write");
    this.clock.observe(record.version);
    const outcomes = await this.replication.write(record, replicas, quorumOf(this.writeQuorum, replicas.length));
    return [...outcomes.values()].some((outcome) => outcome.applied) ? "restored" : "kept";
  }

  /** The direct endpoints land here: act on this node's store, never re-route (the original's /set/direct). */
  async localGet(key: string): Promise<{ value: string; nodeUrl: string }> {
    checkKey(key);
    const record = await this.store.get(key).catch(rethrowStoreError);
    if (!isLiveNow(record, this.wallClock)) throw notFound();
    return { value: record.value, nodeUrl: this.nodeUrl };
  }

  async localSet(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    checkKey(key);
    checkValue(value, this.valueBytesMax);
    checkTtl(ttlMs);
    const expiresAtMs = ttlMs === undefined ? undefined : this.wallClock() + ttlMs;
    await this.replicate(key, (version) => ({ key, value, version, tombstone: false, expiresAtMs }), [this.nodeUrl]);
  }

  async localDel(key: string): Promise<boolean> {
    checkKey(key);
    const outcomes = await this.replicate(key, (version) => ({ key, value: "", version, tombstone: true, expiresAtMs: undefined }), [this.nodeUrl]);
    return [...outcomes.values()].some((outcome) => outcome.replacedLive);
  }

  /** Each replica's own record of a key, for GET /api/v1/replicas/:key. */
  async inspect(key: string) {
    checkKey(key);
    return this.replication.inspect(key, this.replicasFor(key));
  }

  async keys(page: number, pageSize: number): Promise<KeysPage> {
    checkPage(page, pageSize);
    const offset = (page - 1) * pageSize;
    const { entries, total } = await this.store.page(offset, pageSize, KEYS_PAGE_BYTES_MAX).catch(rethrowStoreError);
    const more = offset + entries.length < total;
    return {
      keys: entries.map(({ key, value }) => ({ key, value, size: utf8Bytes(value) })),
      page,
      pageSize,
      total,
      totalPages: Math.ceil(total / pageSize),
      // Short of pageSize with keys left after it: the byte budget, not the end of the store, stopped it.
      truncated: entries.length < pageSize && more,
      next: more && entries.length > 0 ? entries.at(-1)!.key : null,
    };
  }

  /** The live keys after `after`, a page at a time: O(page) at any depth. */
  async keysAfter(after: string, pageSize: number): Promise<KeysAfterPage> {
    // A cursor is a key, but one too long is a bad query, not a value too large to store.
    if (utf8Bytes(after) > KEY_BYTES_MAX) throw new NodeError("bad_request", `after must be a key of at most ${KEY_BYTES_MAX} UTF-8 bytes`);
    checkKey(after);
    checkPage(1, pageSize);
    const entries = await this.store.keysAfter(after, pageSize, KEYS_PAGE_BYTES_MAX).catch(rethrowStoreError);
    const last = entries.at(-1)?.key;
    // One more key looked up past the page says whether any follow.
    const more = last !== undefined && (await this.store.keysAfter(last, 1, KEYS_PAGE_BYTES_MAX).catch(rethrowStoreError)).length > 0;
    return {
      keys: entries.map(({ key, value }) => ({ key, value, size: utf8Bytes(value) })),
      pageSize,
      total: await this.store.count().catch(rethrowStoreError),
      truncated: entries.length < pageSize && more,
      next: more ? last! : null,
    };
  }

  /**
   * Writes a record under a fresh version to the replicas (all of them, or the given ones). If a replica
   * holds a newer version (a clock behind another node's, or a racing write), the clock learns it and
   * the write is retried, so an acknowledged write is always the newest where it was acknowledged.
   */
  private async replicate(key: string, make: (version: Version) => StoredRecord, only?: readonly string[]): Promise<ReadonlyMap<string, PutOutcome>> {
    const replicas = only ?? this.liveReplicas(key, "write");
    const needed = only === undefined ? quorumOf(this.writeQuorum, replicas.length) : replicas.length;
    // The newest version a replica held that the clock would not take (beyond the skew bound): the retry
    // is versioned past it all the same, or a key written before a wall-clock step back would be frozen.
    let floor: Version | undefined;
    for (let attempt = 1; ; attempt++) {
      const version = this.clock.tickAfter(floor);
      // The wall clock may have stepped since this write was let in (a step lands at any instant, between two reads
      // of it): judged again with the version in hand, so none from a step is sent.
      const stepped = only === undefined ? this.stepRefusal() : undefined;
      if (stepped !== undefined) throw new NodeError("unavailable", stepped);
      const outcomes = await this.replication.write(make(version), replicas, needed);
      const lost = [...outcomes].filter(([, outcome]) => !outcome.applied).map(([replica]) => replica);
      if (lost.length === 0) return outcomes;
      const seen = await this.replication.inspect(key, lost);
      for (const { record } of seen) {
        if (record === undefined || this.clock.observe(record.version)) continue;
        if (floor === undefined || compareVersions(record.version, floor) > 0) floor = record.version;
      }
      if (attempt >= WRITE_ATTEMPTS_MAX) throw new NodeError("unavailable", "the write lost to newer versions too many times; retry it");
    }
  }

  /** Whether this node has joined its cluster (latched). */
  isJoined(): boolean {
    this.hasJoined ||= this.joined();
    return this.hasJoined;
  }

  /** Throws unavailable when this node may not coordinate a request of this kind now: not joined yet, or refusing (see NodeOptions.refusal). */
  assertCoordinating(kind: RequestKind): void {
    this.isJoined();
    // A node that has not joined yet knows only itself: its ring of one would take every write alone
    // and answer reads from its own store, which after a restart holds whatever it had before.
    if (!this.hasJoined) throw new NodeError("unavailable", "this node is still joining its cluster; retry shortly or ask another node");
    const refused = this.refusal(kind);
    if (refused !== undefined) throw new NodeError("unavailable", refused);
  }

  /**
   * The key's replicas on the ring, dead or unreachable ones included: the replication layer skips those and
   * never lets a hint count towards the quorum.
   */
  private liveReplicas(key: string, kind: RequestKind): string[] {
    this.assertCoordinating(kind);
    const replicas = this.replicasFor(key);
    // Every node is in its own ring unless it is leaving and the last one: then nothing can hold a key.
    if (replicas.length === 0) throw new NodeError("unavailable", "no node of the cluster can hold keys right now");
    return replicas;
  }

  /** Joins, leaves and removals change the ring (a death does not); the new one replaces the old in one assignment. */
  private rebuildRing(): void {
    const urls = this.members.ringUrls();
    if (urls.length === this.ring.nodes.length && urls.every((url, i) => url === this.ring.nodes[i])) return;
    this.ring = buildRing(urls, this.vnodesPerNode);
    this.ringChangedAtMs = this.wallClock();
    for (const listener of this.ringListeners) listener(this.ring);
  }
}

function notFound(): NodeError {
  return new NodeError("not_found", "key not found");
}

/** A read's live record and the replica it came from. */
interface LiveRead {
  readonly record: StoredRecord;
  readonly from: string;
}

function valueFound({ record, from }: LiveRead): { value: string; nodeUrl: string } {
  return { value: record.value, nodeUrl: from };
}

function rethrowStoreError(error: unknown): never {
  throw fromStoreError(error);
}
