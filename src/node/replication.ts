// Quorum reads and writes over a key's replicas: hints for replicas that miss a write, repair for stale ones.
import type { Backend } from "../store/backend.ts";
import { compareVersions, type PutOutcome, type StoredRecord } from "../store/record.ts";
import { fromStoreError, NodeError } from "./errors.ts";
import type { FutureBound } from "../clock/future-bound.ts";
import type { HintStore } from "./hint-store.ts";
import { awaitQuorum, type Fate } from "./quorum.ts";

/** Versioned record traffic to other replicas; the real one speaks HTTP with timeouts, tests may fake it. */
export interface ReplicaPeers {
  putReplica(target: string, records: readonly StoredRecord[], timeoutMs?: number): Promise<PutOutcome[]>;
  getReplica(target: string, key: string): Promise<StoredRecord | undefined>;
}

export interface ReplicationDeps {
  readonly self: string;
  readonly store: Backend;
  readonly peers: ReplicaPeers;
  readonly hints: HintStore;
  /** Bound on a quorum: past it the client gets 504. */
  readonly timeoutMs: number;
  /** A peer's record whose version lies beyond now + MAX_CLOCK_SKEW_MS is not an answer; unbounded when left out. */
  readonly future?: FutureBound;
  /** Failures after the client's answer (a hint that could not be stored), which only a log can report. */
  readonly onError?: (what: string, error: unknown) => void;
}

export interface ReadResult {
  /** The newest record among the answers, tombstones included; undefined when no replica holds one. */
  readonly record: StoredRecord | undefined;
  /** The replica that answered with it (this node when it holds the newest). */
  readonly from: string;
}

/** W or R: a configured count capped at the replicas there are, or a majority of them for 0. */
export function quorumOf(configured: number, replicas: number): number {
  return configured === 0 ? Math.floor(replicas / 2) + 1 : Math.min(configured, replicas);
}

/** The promise's value, or undefined once `ms` passed without it. */
async function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: Timer | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function newest(answers: Iterable<[string, StoredRecord | undefined]>, self: string): ReadResult {
  let best: ReadResult = { record: undefined, from: self };
  for (const [from, record] of answers) {
    if (record === undefined) continue;
    const order = best.record === undefined ? 1 : compareVersions(record.version, best.record.version);
    if (order > 0 || (order === 0 && from === self)) best = { record, from };
  }
  return best;
}

export class Replication {
  private repairs = 0;

  constructor(private readonly deps: ReplicationDeps) {}

  get repairedCount(): number {
    return this.repairs;
  }

  /** Writes to every replica; resolves once `needed` acknowledged. Replicas that fail get a durable hint. */
  async write(record: StoredRecord, replicas: readonly string[], needed: number): Promise<Map<string, PutOutcome>> {
    // A replica that fails gets its hint the moment it fails: when that is before the quorum is met,
    // the hint is on disk before the client hears OK.
    const calls = new Map(
      replicas.map((replica) => [replica, () => this.putOn(replica, record).catch((error: unknown) => this.hintAndRethrow(replica, record, error))] as const),
    );
    const { answers } = await awaitQuorum(calls, needed, this.deps.timeoutMs, `write of this key`);
    return new Map(answers);
  }

  /**
   * Reads from every replica; resolves with the newest of the first `needed` answers and repairs
   * stale replicas. With `waitForAll` (while rings change) it waits, within the timeout, for every
   * replica's answer and takes the newest of all that came.
   */
  async read(key: string, replicas: readonly string[], needed: number, waitForAll = false): Promise<ReadResult> {
    const calls = new Map(replicas.map((replica) => [replica, () => this.getOn(replica, key)] as const));
    const { answers, settled } = await awaitQuorum(calls, needed, this.deps.timeoutMs, `read of this key`, (fates) => void this.repair(fates));
    if (!waitForAll) return newest(answers, this.deps.self);
    const fates = await withinMs(settled, this.deps.timeoutMs);
    const all = fates === undefined ? [...answers] : [...fates].flatMap(([replica, fate]) => (fate.ok ? [[replica, fate.value] as [string, StoredRecord | undefined]] : []));
    return newest(all, this.deps.self);
  }

  /** Each replica's own record of a key, for the replicas route; a replica that fails is reported, not fatal. */
  async inspect(key: string, replicas: readonly string[]): Promise<{ nodeUrl: string; record: StoredRecord | undefined; error: string | undefined }[]> {
    return Promise.all(
      replicas.map(async (nodeUrl) => {
        try {
          return { nodeUrl, record: await this.getOn(nodeUrl, key), error: undefined };
        } catch (error) {
          return { nodeUrl, record: undefined, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
  }

  private putOn(replica: string, record: StoredRecord): Promise<PutOutcome> {
    if (replica === this.deps.self) return this.deps.store.put(record).catch(rethrowStoreError);
    return this.deps.peers.putReplica(replica, [record]).then((outcomes) => outcomes[0]!);
  }

  private async getOn(replica: string, key: string): Promise<StoredRecord | undefined> {
    if (replica === this.deps.self) return this.deps.store.get(key).catch(rethrowStoreError);
    const record = await this.deps.peers.getReplica(replica, key);
    // A forged future version would win the read, be repaired onto every replica and pull the clocks along.
    if (record !== undefined && this.deps.future?.accepts("version", record.version.wallMs) === false) {
      throw new NodeError("clock_skew", `replica ${replica} answered with a version from beyond MAX_CLOCK_SKEW_MS; its clock or its data is wrong`);
    }
    return record;
  }

  private hintAndRethrow(replica: string, record: StoredRecord, error: unknown): never {
    if (replica !== this.deps.self) {
      try {
        this.deps.hints.add(replica, record);
      } catch (hintError) {
        // The replica gets the write from read repair or anti-entropy instead; the write itself goes on.
        this.deps.onError?.("hint", hintError);
      }
    }
    throw error;
  }

  /** Read repair: every replica that answered with an older record, or none, gets the newest one. */
  private async repair(fates: ReadonlyMap<string, Fate<StoredRecord | undefined>>): Promise<void> {
    const answered = [...fates].flatMap(([replica, fate]) => (fate.ok ? [[replica, fate.value] as [string, StoredRecord | undefined]] : []));
    const { record } = newest(answered, this.deps.self);
    if (record === undefined) return;
    const stale = answered.filter(([, held]) => held === undefined || compareVersions(held.version, record.version) < 0).map(([replica]) => replica);
    await Promise.all(
      stale.map(async (replica) => {
        try {
          await this.putOn(replica, record);
          this.repairs++;
        } catch {
          // A replica that cannot take the repair now gets it from anti-entropy later.
        }
      }),
    );
  }
}

function rethrowStoreError(error: unknown): never {
  throw fromStoreError(error);
}
