// The replica side of replication: applies and serves versioned records, and answers anti-entropy exchanges.
import type { Ring } from "../ring/ring.ts";
import type { Backend } from "../store/backend.ts";
import { compareKeys, type PutOutcome, type StoredRecord } from "../store/record.ts";
import { bucketDigests, BUCKETS, differingBuckets, recordsInBuckets } from "./anti-entropy.ts";
import { checkKey, checkValue } from "./checks.ts";
import { fromStoreError, NodeError } from "./errors.ts";
import type { FutureBound } from "../clock/future-bound.ts";
import type { HybridClock } from "./hlc.ts";
import { chunkRecords } from "./record-chunks.ts";

export interface ReplicaServiceDeps {
  readonly self: string;
  readonly store: Backend;
  readonly clock: HybridClock;
  readonly ring: () => Ring;
  readonly replicasFor: (ring: Ring, key: string) => readonly string[];
  readonly valueBytesMax: number;
  /** Versions beyond now + MAX_CLOCK_SKEW_MS are refused before anything is applied. */
  readonly future: FutureBound;
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
    // The same key rules as a client write, all checked before any record is applied, so a bad
    // batch changes nothing.
    for (const record of records) {
      checkKey(record.key);
      if (!record.tombstone) checkValue(record.value, this.deps.valueBytesMax);
    }
    const timely = records.map((record) => this.deps.future.accepts("version", record.version.wallMs));
    if (records.length > 0 && !timely.includes(true)) {
      throw new NodeError("clock_skew", `the records' versions lie more than MAX_CLOCK_SKEW_MS (${this.deps.future.maxSkewMs} ms) ahead of this node's clock; check the sender's clock`);
    }
    let outcomes: PutOutcome[];
    try {
      outcomes = await Promise.all(records.map((record, i) => (timely[i] === true ? this.deps.store.put(record) : NOT_APPLIED)));
    } catch (error) {
      throw fromStoreError(error);
    }
    for (const [i, record] of records.entries()) if (timely[i] === true) this.deps.clock.observe(record.version);
    return outcomes;
  }

  async get(key: string): Promise<StoredRecord | undefined> {
    return this.deps.store.get(key).catch((error: unknown) => {
      throw fromStoreError(error);
    });
  }

  /** Whether a key is replicated by both this node and `peer` on this node's ring. */
  sharesWith(peer: string): (key: string) => boolean {
    const ring = this.deps.ring();
    return (key) => {
      const replicas = this.deps.replicasFor(ring, key);
      return replicas.includes(this.deps.self) && replicas.includes(peer);
    };
  }

  async differingBuckets(peer: string, theirs: readonly number[]): Promise<number[]> {
    if (theirs.length !== BUCKETS) return Array.from({ length: BUCKETS }, (_, b) => b);
    return differingBuckets(await bucketDigests(this.deps.store, this.sharesWith(peer)), theirs);
  }

  /** One bounded page of the records shared with `peer` in those buckets, after the cursor key. */
  async bucketRecords(peer: string, buckets: readonly number[], after: string | undefined): Promise<{ records: StoredRecord[]; next: string | undefined }> {
    const all = await recordsInBuckets(this.deps.store, new Set(buckets), this.sharesWith(peer));
    const from = after === undefined ? all : all.filter((record) => compareKeys(record.key, after) > 0);
    const first = chunkRecords(from)[0] ?? [];
    const next = first.length < from.length ? first.at(-1)?.key : undefined;
    return { records: first, next };
  }
}
