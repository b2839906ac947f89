// The replica side of replication: applies and serves versioned records, and answers anti-entropy exchanges.
import { sharedRanges, type Arc } from "../ring/arcs.ts";
import { mergeRanges, type RingRange } from "../ring/range.ts";
import type { Ring } from "../ring/ring.ts";
import type { Backend } from "../store/backend.ts";
import type { PutOutcome, StoredRecord, Version } from "../store/record.ts";
import type { ItemResult } from "./call-merger.ts";
import { differingIndexes, groupDigests, groupSegments, rangesInSegments, sharedDigests, SEGMENTS_PER_GROUP, walkRanges } from "./anti-entropy.ts";
import { RECORDS_PER_REQUEST_MAX } from "./record-wire.ts";
import { checkKey, checkValue } from "./checks.ts";
import { fromStoreError, NodeError } from "./errors.ts";
import type { FutureBound } from "../clock/future-bound.ts";
import type { HybridClock } from "./hlc.ts";
import { chunkRecords, RECORD_BYTES_PER_REQUEST_MAX } from "./record-chunks.ts";
import { utf8Bytes } from "../store/limits.ts";

/** Records read from the store per step while filling an answer of records (RECORDS_PER_REQUEST_MAX at most). */
const PAGE_STEP_RECORDS = 64;

export interface ReplicaServiceDeps {
  readonly self: string;
  readonly store: Backend;
  readonly clock: HybridClock;
  readonly ring: () => Ring;
  readonly replicasFor: (ring: Ring, key: string) => readonly string[];
  /** The ring's arcs with their replicas (memoised by the node, one computation per ring). */
  readonly arcs: (ring: Ring) => readonly Arc[];
  readonly valueBytesMax: number;
  /** Versions beyond now + MAX_CLOCK_SKEW_MS are refused before anything is applied. */
  readonly future: FutureBound;
  /**
   * Whether this node is leaving the cluster. A leaving node takes no copy and vouches for none: it refuses writes
   * and digest comparisons, so no node drops a record on the word of one that is about to go (several nodes
   * stopped at once would otherwise each drop their copies on the others' word). Left out, never.
   */
  readonly leaving?: () => boolean;
}

/** The outcome of a record refused for its version from the future: nothing replaced, nothing applied. */
const NOT_APPLIED: PutOutcome = { applied: false, replacedLive: false };

export class ReplicaService {
  constructor(private readonly deps: ReplicaServiceDeps) {}

  /**
   * Applies records by last write wins; the clock learns their versions so local writes stay newer. A
   * record whose version lies beyond now + MAX_CLOCK_SKEW_MS is not applied (applied: false, counted):
   * it would win every later write to its key and drag this node's clock with it. One such record does
   * not hold back the rest of a batch (an anti-entropy page, a hint backlog); a batch of nothing else is
   * refused whole with 400 clock_skew, so a single write from a sender with a wrong clock fails loudly.
   */
  async put(records: readonly StoredRecord[]): Promise<PutOutcome[]> {
    this.refuseIfLeaving();
    // The same key rules as a client write, all checked before any record is applied, so a bad
    // batch changes nothing.
    for (const record of records) this.checkRules(record);
    const timely = records.map((record) => this.deps.future.accepts("version", record.version.wallMs));
    if (records.length > 0 && !timely.includes(true)) throw this.fromTheFuture();
    // Together: a page of a stream or of the hint backlog is one store call, not one per record.
    return (await this.storeTaken(records, timely)).map((outcome) => outcome ?? NOT_APPLIED);
  }

  /**
   * Applies each record on its own, exactly as so many puts of one record would: one refused (a bad key, a
   * version from the future) or failed fails alone, with the error its own put would have thrown. Those taken
   * are stored together (Backend.putMany: one promise, not one per record), so a failing store fails each alike.
   */
  putEach(records: readonly StoredRecord[]): Promise<ItemResult<PutOutcome>[]> {
    if (this.deps.leaving?.() === true) return Promise.resolve(records.map(() => ({ ok: false, error: leavingError() })));
    // Each record judged alone first (its rules, a version from the future); those left go to the store together.
    const judged = records.map((record): ItemResult<PutOutcome> | undefined => {
      try {
        this.checkRules(record);
        return this.deps.future.accepts("version", record.version.wallMs) ? undefined : { ok: false, error: this.fromTheFuture() };
      } catch (error) {
        return { ok: false, error };
      }
    });
    const taken = judged.map((result) => result === undefined);
    if (!taken.includes(true)) return Promise.resolve(judged as ItemResult<PutOutcome>[]);
    return this.storeTaken(records, taken).then(
      (stored) => judged.map((result, i) => result ?? { ok: true, value: stored[i]! }),
      (error: unknown) => {
        const failed: ItemResult<PutOutcome> = { ok: false, error };
        return judged.map((result) => result ?? failed);
      },
    );
  }

  /** A client write's key rules, which every record a peer sends is held to. */
  private checkRules(record: StoredRecord): void {
    checkKey(record.key);
    if (!record.tombstone) checkValue(record.value, this.deps.valueBytesMax);
  }

  /**
   * The records `taken` marks, stored together (Backend.putMany: one promise, not one per record); each one's
   * outcome in its place (undefined for one not taken), the clock having learnt its version. Fails in the node's words.
   */
  private storeTaken(records: readonly StoredRecord[], taken: readonly boolean[]): Promise<(PutOutcome | undefined)[]> {
    let stored: Promise<PutOutcome[]>;
    try {
      stored = this.deps.store.putMany(records.filter((_, i) => taken[i]));
    } catch (error) {
      stored = Promise.reject(error);
    }
    return stored.then(
      (outcomes) => {
        let next = 0;
        return records.map((record, i) => {
          if (!taken[i]) return undefined;
          this.deps.clock.observe(record.version);
          return outcomes[next++]!;
        });
      },
      (error: unknown) => {
        throw fromStoreError(error);
      },
    );
  }

  private refuseIfLeaving(): void {
    if (this.deps.leaving?.() === true) throw leavingError();
  }

  private fromTheFuture(): NodeError {
    return new NodeError("clock_skew", `the records' versions lie more than MAX_CLOCK_SKEW_MS (${this.deps.future.maxSkewMs} ms) ahead of this node's clock; check the sender's clock`);
  }

  /**
   * Each key's record (undefined for none), or the error its own read failed with: the keys read together
   * (Backend.getMany), one promise for the call's ~17 keys at 64 connections rather than one each.
   */
  getEach(keys: readonly string[]): Promise<ItemResult<StoredRecord | undefined>[]> {
    return this.readEach(keys, (record) => record);
  }

  /** Each key's version (undefined for none), or the error its own read failed with; read as getEach reads. */
  versionEach(keys: readonly string[]): Promise<ItemResult<Version | undefined>[]> {
    return this.readEach(keys, (record) => record?.version);
  }

  /** The keys read together, each as the item its own read comes to; a store that fails fails each of them alike. */
  private readEach<R>(keys: readonly string[], pick: (record: StoredRecord | undefined) => R): Promise<ItemResult<R>[]> {
    let read: Promise<(StoredRecord | undefined)[]>;
    try {
      read = this.deps.store.getMany(keys);
    } catch (error) {
      read = Promise.reject(error);
    }
    return read.then(
      (records) => records.map((record): ItemResult<R> => ({ ok: true, value: pick(record) })),
      (error: unknown) => {
        const refusal: ItemResult<R> = { ok: false, error: fromStoreError(error) };
        return keys.map(() => refusal);
      },
    );
  }

  async get(key: string): Promise<StoredRecord | undefined> {
    return this.deps.store.get(key).catch((error: unknown) => {
      throw fromStoreError(error);
    });
  }

  /** The ranges whose keys both this node and `peer` replicate, on this node's ring. */
  sharedRanges(peer: string): RingRange[] {
    return sharedRanges(this.deps.arcs(this.deps.ring()), this.deps.self, peer);
  }

  /** Anti-entropy, step one: the groups of the digest tree where a peer's digests of `ranges` (those it shares with this node, on its ring) differ from this node's. */
  async differingGroups(ranges: readonly RingRange[], theirs: readonly number[]): Promise<number[]> {
    this.refuseIfLeaving();
    const mine = groupDigests(await this.digestsOf(ranges));
    return differingIndexes(mine, theirs);
  }

  /** Anti-entropy, step two: within those groups, the segments whose digests differ. */
  async differingSegments(ranges: readonly RingRange[], groups: readonly number[], theirs: readonly number[]): Promise<number[]> {
    this.refuseIfLeaving();
    const wanted = new Set(groups);
    const mine = groupSegments(await this.digestsOf(ranges, (segment) => wanted.has(Math.floor(segment / SEGMENTS_PER_GROUP))), groups);
    return differingIndexes(mine, theirs).map((i) => groups[Math.floor(i / SEGMENTS_PER_GROUP)]! * SEGMENTS_PER_GROUP + (i % SEGMENTS_PER_GROUP));
  }

  /** Anti-entropy, step three: one bounded page of this node's records of `ranges` in those segments, in ring order after `after`. */
  async segmentRecords(ranges: readonly RingRange[], segments: readonly number[], after: string | undefined): Promise<{ records: StoredRecord[]; next: string | undefined }> {
    const page: StoredRecord[] = [];
    let more = false;
    let bytes = 0;
    try {
      // Contiguous segments as one range: a stretch of many segments is a few store reads, not one per segment.
      // Small steps, and a stop at the byte budget: large values are not read past what one answer carries.
      for await (const record of walkRanges(this.deps.store, mergeRanges(rangesInSegments(ranges, segments)), after, PAGE_STEP_RECORDS)) {
        if (page.length === RECORDS_PER_REQUEST_MAX || bytes >= RECORD_BYTES_PER_REQUEST_MAX) {
          more = true;
          break;
        }
        page.push(record);
        bytes += utf8Bytes(record.key) + utf8Bytes(record.value);
      }
    } catch (error) {
      throw fromStoreError(error);
    }
    const first = chunkRecords(page)[0] ?? [];
    const next = more || first.length < page.length ? first.at(-1)?.key : undefined;
    return { records: first, next };
  }

  private digestsOf(ranges: readonly RingRange[], wanted?: (segment: number) => boolean): Promise<Uint32Array> {
    return sharedDigests(this.deps.store, ranges, wanted).catch((error: unknown) => {
      throw fromStoreError(error);
    });
  }
}

function leavingError(): NodeError {
  return new NodeError("unavailable", "this node is leaving the cluster: it takes no copies and vouches for none");
}
