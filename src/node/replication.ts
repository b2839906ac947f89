// Quorum reads and writes over a key's replicas: hints for replicas that miss a write, repair for stale ones.
import type { Backend } from "../store/backend.ts";
import { compareVersions, type PutOutcome, type StoredRecord, type Version } from "../store/record.ts";
import { fromStoreError, NodeError } from "./errors.ts";
import type { FutureBound } from "../clock/future-bound.ts";
import type { HintStore } from "./hint-store.ts";
import { awaitQuorum, type Fate } from "./quorum.ts";
import { stepped, type PeerTransport } from "./peer-transport.ts";

/** Versioned record traffic to other replicas: the part of the peer transport replication uses. */
/** What replication asks of peers; getReplicaThen and putReplicaThen are their calls' `then` when a transport does not offer them. */
export type ReplicaPeers = Pick<PeerTransport, "putReplica" | "getReplica" | "versionOf"> & Partial<Pick<PeerTransport, "getReplicaThen" | "putReplicaThen">>;

/** What a replica answered a read with: its version, and the record itself when it was asked for it. */
interface Held {
  readonly version: Version | undefined;
  /** Present when the whole record was read (this node's own copy, or a coordinator that is no replica). */
  readonly record?: StoredRecord | undefined;
  /** Who answered, when another replica stood in for the one first asked (see `read`). */
  readonly replica?: string;
}

/** Answers by the replica that gave them (a stand-in's answer is its own, not the one first asked's). */
function byAnswerer(answers: Iterable<readonly [string, Held]>): [string, Held][] {
  return [...answers].map(([asked, held]) => [held.replica ?? asked, held]);
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
  /**
   * Replicas no request is sent to: members held dead, and peers whose calls lately got no answer (see
   * reachability.ts). Their writes become hints at once; they never count towards a quorum. Left out, none.
   */
  readonly isDown?: (replica: string) => boolean;
  /** Told of the replicas that had not answered when a quorum timed out (main marks them unreachable at once). */
  readonly onSilent?: (replicas: readonly string[]) => void;
  /**
   * True while this node's clock reads off its peers' by more than the skew (main: the clock check, from the
   * first reading, before writes are refused). Then its own copy of a write waits for another replica to
   * accept the version. Left out, never.
   */
  readonly clockSuspect?: () => boolean;
  /** Told when a replica refused this node's own write for a version from beyond its clock bound (main: clock suspect at once). */
  readonly onVersionRefused?: () => void;
  /** Monotonic ms, for what is left of a read's time when it needs more than its first answers; performance.now when left out. */
  readonly now?: () => number;
}

/** Who a quorum read asks and how: the replicas up, those asked first, and what each asked one was asked for. */
interface ReadPlan {
  readonly up: readonly string[];
  readonly asked: readonly string[];
  /** The whole record from every asked replica (this node is none of them, or rings change), not versions. */
  readonly whole: boolean;
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

/** The replica holding the newest version among the answers (this node on a tie), and that version. */
function newest(answers: Iterable<[string, Held]>, self: string): { from: string; held: Held | undefined } {
  let best: { from: string; held: Held | undefined } = { from: self, held: undefined };
  for (const [from, held] of answers) {
    if (held.version === undefined) continue;
    const order = best.held?.version === undefined ? 1 : compareVersions(held.version, best.held.version);
    if (order > 0 || (order === 0 && from === self)) best = { from, held };
  }
  return best;
}

export class Replication {
  private repairs = 0;
  /** Which of the other replicas reads ask first, in turn: one step per event-loop turn (see `fewest`). */
  private rotation = 0;
  /** This turn's step of the rotation, until the turn ends; undefined between turns. */
  private turnRotation: number | undefined;

  private readonly now: () => number;

  /** The replicas other than this node that were silent at a quorum's timeout, passed on. */
  private readonly onSilent = (replicas: readonly string[]) => {
    const peers = replicas.filter((replica) => replica !== this.deps.self);
    if (peers.length > 0) this.deps.onSilent?.(peers);
  };

  constructor(private readonly deps: ReplicationDeps) {
    this.now = deps.now ?? (() => performance.now());
  }

  get repairedCount(): number {
    return this.repairs;
  }

  /**
   * Writes to every replica; resolves once `needed` acknowledged. While this node's clock is suspect, it stores
   * its own copy only once another replica has accepted the version (peers refuse one from beyond
   * MAX_CLOCK_SKEW_MS): a node whose clock jumped ahead must not keep a version from the future that, once the
   * time comes, would beat writes acknowledged after it. Replicas that fail get a durable hint. When
   * fewer than `needed` replicas are up, nothing is sent and the client hears that the write was not applied:
   * a hint never counts towards the quorum (strict quorums), so the replicas of a key stay the ones it has.
   */
  async write(record: StoredRecord, replicas: readonly string[], needed: number): Promise<ReadonlyMap<string, PutOutcome>> {
    // This node the only replica: the store call and nothing else (no quorum, timer or hint can apply).
    if (replicas.length === 1 && replicas[0] === this.deps.self) return new Map([[this.deps.self, await this.putOn(this.deps.self, record)]]);
    const up = this.reachable(replicas, needed, "write of this key", "the write was not applied");
    // One replica, another node (a forwarded write): its answer is the write's; no quorum or own copy to wait on.
    if (replicas.length === 1) return new Map([[up[0]!, await this.putOnly(up[0]!, record)]]);
    for (const replica of replicas) if (!up.includes(replica)) this.hint(replica, record);
    const remotes = up.filter((replica) => replica !== this.deps.self);
    const suspect = this.deps.clockSuspect?.() === true;
    const accepted = firstSuccess(suspect ? remotes.length : 0);
    let ownPut: Promise<unknown> = Promise.resolve();
    // A replica refusing the version as from the future means this node's clock runs ahead, or that replica's
    // behind: told apart once every other replica has answered. Only when none took the version is it this node's
    // clock, and its own copy is taken back; a replica that alone refused keeps a clock of its own to fix.
    let remotesLeft = remotes.length;
    let takenElsewhere = false;
    let refusedAsFuture = false;
    const remoteSettled = () => {
      if (--remotesLeft === 0 && refusedAsFuture && !takenElsewhere) this.withdrawOwn(record, ownPut);
    };
    // A replica that fails gets its hint the moment it fails: when that is before the quorum is met,
    // the hint is on disk before the client hears OK.
    const calls = new Map(
      up.map((replica) => {
        if (replica === this.deps.self) {
          const call = (): Promise<PutOutcome> => {
            const put = suspect ? accepted.promise.then(() => this.putOn(replica, record)) : this.putOn(replica, record);
            ownPut = put;
            return put;
          };
          return [replica, call] as const;
        }
        const taken = (outcome: PutOutcome) => {
          accepted.succeed();
          takenElsewhere = true;
          remoteSettled();
          return outcome;
        };
        const call = (): Promise<PutOutcome> =>
          this.putOn(replica, record, taken).catch((error: unknown) => {
            accepted.fail();
            if (error instanceof NodeError && error.code === "clock_skew") {
              refusedAsFuture = true;
              remoteSettled();
              // No hint: the replica would refuse it as well until its clock, or this node's, is right.
              throw new NodeError("unavailable", `${error.message}; the write may or may not have been applied`, { cause: error });
            }
            remoteSettled();
            return this.hintAndRethrow(replica, record, error);
          });
        return [replica, call] as const;
      }),
    );
    // The answers are the quorum's own copy.
    return (await awaitQuorum(calls, needed, this.deps.timeoutMs, "write", undefined, this.onSilent)).answers;
  }

  /**
   * Reads from every replica that is up; resolves with the newest of the first `needed` answers. When this node
   * is a replica it reads its own copy and asks the others for their versions only (a digest read, as Cassandra
   * does); the whole record is fetched from another replica only when that one holds a newer version. This
   * node alone (one replica) reads its store and nothing else. With `waitForAll` (while rings change) it waits,
   * within the timeout, for every replica's answer and takes the newest of all that came. Reads are monotonic:
   * before answering, the replicas that answered with an older version (or none) are given the newest and the
   * read waits for them (blocking read repair, as in Cassandra 4), so once a read returned a version it is on
   * enough replicas that every later read quorum meets one of them. When that cannot be done the read fails
   * rather than return a version a later read might not see. Replicas that answered after the quorum are
   * repaired in the background.
   */
  read(key: string, replicas: readonly string[], needed: number, waitForAll?: boolean): Promise<ReadResult>;
  /**
   * read, with the caller's next step run on its result in the same callback, and `failed` (when given) on a
   * failure or on what `then` throws; else that rejects the read.
   */
  read<R>(key: string, replicas: readonly string[], needed: number, waitForAll: boolean, then: (read: ReadResult) => R, failed?: (error: unknown) => R | PromiseLike<R>): Promise<R>;
  read(key: string, replicas: readonly string[], needed: number, waitForAll = false, then: (read: ReadResult) => unknown = asIs, failed?: (error: unknown) => unknown): Promise<unknown> {
    if (replicas.length !== 1) return stepped(waitForAll ? this.quorumRead(key, replicas, needed, true) : this.digestRead(key, replicas, needed), then, failed);
    // One replica (this node, or another for a forwarded read): its answer is the read; the call's own deadline
    // bounds it, and no quorum, repair or second answer can apply. One promise: most reads are at one copy.
    try {
      const [only] = this.reachable(replicas, needed, "read of this key", "nothing was read");
      return this.getOn(only!, key, (record) => then({ record, from: only! }), failed);
    } catch (error) {
      return rejected(error, failed);
    }
  }

  /**
   * The read answered at once, with no promise: when this node is the key's one replica and its store reads
   * without waiting (getSync), its copy is the read, as `read` would find it. Undefined for any other read, which
   * `read` answers. Throws as `read` rejects.
   */
  readSync(key: string, replicas: readonly string[]): ReadResult | undefined {
    const getSync = this.deps.store.getSync;
    if (getSync === undefined || replicas.length !== 1 || replicas[0] !== this.deps.self) return undefined;
    try {
      return { record: getSync(key), from: this.deps.self };
    } catch (error) {
      rethrowStoreError(error);
    }
  }

  /**
   * The usual quorum read: this node's own copy and the versions of `needed` − 1 others. When every one of them
   * answers and all agree, that is the read's answer, with nothing to repair, no stand-in to ask and so none of the
   * quorum's machinery: its timer, maps and repair pass cost the coordinator ~7 of its ~25 µs CPU per read at RF=3
   * (3 sqlite nodes, wrk -c64 GET on one, /tmp/cpu/rf3.ts; 38k against 51k reads/s). Anything else (a call that
   * fails, versions that differ) goes on as `quorumRead`, with the calls already made and what is left of the time.
   */
  private digestRead(key: string, replicas: readonly string[], needed: number): Promise<ReadResult> {
    const self = this.deps.self;
    let plan: ReadPlan;
    try {
      plan = this.planRead(replicas, needed, false);
    } catch (error) {
      return Promise.reject(error);
    }
    if (plan.whole) return this.quorumRead(key, replicas, needed, false, plan);
    const startedMs = this.now();
    const calls = plan.asked.map((replica) => this.firstCall(replica, key, false));
    const goOn = () => this.gather(key, replicas.length, needed, false, plan, calls, this.deps.timeoutMs - (this.now() - startedMs));
    // This node is anywhere among the asked: first when `fewest` chose, in ring order when every replica up is asked.
    const ownAt = plan.asked.indexOf(self);
    return Promise.all(calls).then((helds) => {
      const own = helds[ownAt]!;
      for (const held of helds) if (!sameVersion(held.version, own.version)) return goOn();
      return { record: own.record, from: self };
    }, goOn);
  }

  private async quorumRead(key: string, replicas: readonly string[], needed: number, waitForAll: boolean, planned?: ReadPlan): Promise<ReadResult> {
    const plan = planned ?? this.planRead(replicas, needed, waitForAll);
    const calls = plan.asked.map((replica) => this.firstCall(replica, key, plan.whole));
    return this.gather(key, replicas.length, needed, waitForAll, plan, calls, this.deps.timeoutMs);
  }

  /** Who a read asks: every replica up when this node is none of them or rings change, else itself and the fewest others. */
  private planRead(replicas: readonly string[], needed: number, waitForAll: boolean): ReadPlan {
    const up = this.reachable(replicas, needed, "read of this key", "nothing was read");
    const whole = !up.includes(this.deps.self);
    return { up, asked: whole || waitForAll ? up : this.fewest(up, needed), whole };
  }

  /** An asked replica's first answer: the whole record from this node (or from any, for a whole read), else its version. */
  private firstCall(replica: string, key: string, whole: boolean): Promise<Held> {
    if (replica === this.deps.self || whole) return this.getOn(replica, key, (record): Held => ({ version: record?.version, record }));
    return this.versionOn(replica, key);
  }

  /**
   * The quorum read over calls already made to `plan.asked` (in that order), within `timeoutMs`: replicas not
   * asked at first stand in, one at a time, for an asked one whose call fails; the newest answer is made durable
   * before it is returned, and replicas that answered late are repaired after.
   */
  private async gather(key: string, replicaCount: number, needed: number, waitForAll: boolean, plan: ReadPlan, first: readonly Promise<Held>[], timeoutMs: number): Promise<ReadResult> {
    const self = this.deps.self;
    const spares = plan.up.filter((replica) => !plan.asked.includes(replica));
    const standInFor = (error: unknown): Promise<Held> => {
      const spare = spares.shift();
      if (spare === undefined) return Promise.reject(error);
      return this.versionOn(spare, key)
        .catch(standInFor)
        .then((held) => (held.replica === undefined ? { ...held, replica: spare } : held));
    };
    const calls = new Map(
      plan.asked.map((replica, i) => {
        const call = replica === self || plan.whole ? () => first[i]! : () => first[i]!.catch(standInFor);
        return [replica, call] as const;
      }),
    );
    /** What the blocking repair gave each replica, so the repair after the answer sends only what is newer still. */
    const repaired = new Map<string, StoredRecord>();
    // The repair after the answer starts from the record the read returned, so it waits for the read's outcome.
    const returned = Promise.withResolvers<StoredRecord | undefined>();
    try {
      const { answers, settled } = await awaitQuorum(calls, needed, timeoutMs, "read", (fates) => void returned.promise.then((record) => this.repair(key, fates, record, repaired)), this.onSilent);
      let answered = byAnswerer(answers);
      if (waitForAll) {
        const fates = await withinMs(settled, this.deps.timeoutMs);
        if (fates !== undefined) answered = byAnswerer([...fates].flatMap(([replica, fate]) => (fate.ok ? [[replica, fate.value] as [string, Held]] : [])));
      }
      const best = newest(answered, self);
      const record = best.held === undefined ? undefined : "record" in best.held ? best.held.record : await this.fetchNewest(best.from, key, best.held.version!);
      returned.resolve(record);
      // A later read quorum meets every set of this many replicas: the newest must be on that many before it is returned.
      await this.makeDurable(record, answered, replicaCount - needed + 1, repaired);
      return { record, from: best.from };
    } finally {
      returned.resolve(undefined);
    }
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

  /** A write's only replica, another node: a failure leaves a hint (or, for a version refused as from the future, none). */
  private putOnly(replica: string, record: StoredRecord): Promise<PutOutcome> {
    return this.putOn(replica, record).catch((error: unknown) => {
      if (error instanceof NodeError && error.code === "clock_skew") return this.withdraw(record, Promise.resolve(), error);
      return this.hintAndRethrow(replica, record, error);
    });
  }

  /** `record` stored on `replica`, its outcome passed through `next` (the caller's step, in the same callback: every replica write passes here). */
  private putOn<R = PutOutcome>(replica: string, record: StoredRecord, next: (outcome: PutOutcome) => R = asIs as (outcome: PutOutcome) => R): Promise<R> {
    if (replica === this.deps.self) return this.deps.store.put(record).then(next, rethrowStoreError);
    const { peers } = this.deps;
    try {
      return peers.putReplicaThen === undefined ? peers.putReplica(replica, [record]).then(([outcome]) => next(outcome!)) : peers.putReplicaThen(replica, record, next);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The replicas a read asks first when this node is one of them: itself and `needed - 1` others, taken in turn
   * so the load spreads, as Cassandra asks only the replicas its consistency level needs. The others stand in
   * for one that fails. The turn moves once per event-loop turn, not per read, so a turn's digest reads leave as
   * one frame to one peer: with 3 sqlite nodes at RF=3, R=2 (wrk -c64 on one node, runs alternated with the
   * per-read turn) that cut the replicas' CPU per read by ~20 % and raised reads/s by ~5 %.
   */
  private fewest(up: readonly string[], needed: number): readonly string[] {
    const wanted = Math.max(0, needed - 1);
    if (wanted >= up.length - 1) return up;
    // By name, not ring order: the reads of one turn then ask the same peers whatever their keys' ring order.
    const others = up.filter((replica) => replica !== this.deps.self).sort();
    const start = this.turnStep() % others.length;
    const chosen = Array.from({ length: wanted }, (_, i) => others[(start + i) % others.length]!);
    return [this.deps.self, ...chosen];
  }

  /** The rotation's step for this event-loop turn: it moves on once per turn, not per read. */
  private turnStep(): number {
    if (this.turnRotation === undefined) {
      this.turnRotation = this.rotation++;
      setImmediate(() => {
        this.turnRotation = undefined;
      });
    }
    return this.turnRotation;
  }

  /** A remote replica's version of a key, held to the clock bound like a whole record. */
  private versionOn(replica: string, key: string): Promise<Held> {
    let asked: Promise<Version | undefined>;
    try {
      asked = this.deps.peers.versionOf(replica, key);
    } catch (error) {
      return Promise.reject(error);
    }
    return asked.then((version): Held => {
      if (version !== undefined && this.deps.future?.accepts("version", version.wallMs) === false) {
        throw new NodeError("clock_skew", `replica ${replica} answered with a version from beyond MAX_CLOCK_SKEW_MS; its clock or its data is wrong`);
      }
      return { version };
    });
  }

  /** The whole record from the replica that answered the newest version; it may have moved on since, never back. */
  private async fetchNewest(replica: string, key: string, version: Version): Promise<StoredRecord | undefined> {
    const record = await this.getOn(replica, key);
    if (record === undefined || compareVersions(record.version, version) < 0) {
      throw new NodeError("unavailable", `read of this key: replica ${replica} no longer holds the version it answered with`);
    }
    return record;
  }

  /**
   * A replica's record of `key`, passed through `next` (the caller's step, in the same callback: every read passes
   * here), and through `failed` (when given) on a failure or on what `next` throws.
   */
  private getOn<R = StoredRecord | undefined>(
    replica: string,
    key: string,
    next: (record: StoredRecord | undefined) => R = asIs as (record: StoredRecord | undefined) => R,
    failed?: (error: unknown) => R | PromiseLike<R>,
  ): Promise<R> {
    if (replica === this.deps.self) {
      let asked: Promise<StoredRecord | undefined>;
      try {
        asked = this.deps.store.get(key);
      } catch (error) {
        asked = Promise.reject(error);
      }
      const read = asked.then(next, rethrowStoreError);
      return failed === undefined ? read : read.catch(failed);
    }
    const judged = (record: StoredRecord | undefined) => {
      // A forged future version would win the read, be repaired onto every replica and pull the clocks along.
      if (record !== undefined && this.deps.future?.accepts("version", record.version.wallMs) === false) {
        throw new NodeError("clock_skew", `replica ${replica} answered with a version from beyond MAX_CLOCK_SKEW_MS; its clock or its data is wrong`);
      }
      return next(record);
    };
    const { peers } = this.deps;
    try {
      return peers.getReplicaThen === undefined ? stepped(peers.getReplica(replica, key), judged, failed) : peers.getReplicaThen(replica, key, judged, failed);
    } catch (error) {
      return rejected(error, failed);
    }
  }

  /**
   * The replicas a request is sent to: all but those that are down (this node never is). Fewer than `needed`
   * fails at once, with `outcome` saying what that means for the client (a write was not applied).
   */
  private reachable(replicas: readonly string[], needed: number, what: string, outcome: string): readonly string[] {
    const isDown = this.deps.isDown;
    if (isDown === undefined) return replicas;
    const up = replicas.filter((replica) => replica === this.deps.self || !isDown(replica));
    if (up.length < needed) {
      throw new NodeError("unavailable", `${what}: only ${up.length} of its ${replicas.length} replicas can be reached and ${needed} must answer; ${outcome}`);
    }
    return up;
  }

  /**
   * The blocking part of read repair: every replica that answered older than `record` gets it, and the read
   * waits; throws when fewer than `durable` answered replicas then hold it.
   */
  private async makeDurable(
    record: StoredRecord | undefined,
    answered: readonly [string, Held][],
    durable: number,
    repaired: Map<string, StoredRecord>,
  ): Promise<void> {
    if (record === undefined) return;
    const stale = staleOf(answered, record);
    if (stale.length === 0) return;
    const fates = await Promise.allSettled(
      stale.map(async (replica) => {
        repaired.set(replica, record);
        await this.putOn(replica, record);
        this.repairs++;
      }),
    );
    const holders = answered.length - fates.filter((fate) => fate.status === "rejected").length;
    if (holders >= durable) return;
    const failure = fates.find((fate): fate is PromiseRejectedResult => fate.status === "rejected")?.reason;
    const code = failure instanceof NodeError && failure.code === "timeout" ? "timeout" : "unavailable";
    throw new NodeError(code, `read of this key: the newest version could not be written back to ${durable} replicas, so a later read might not see it`);
  }

  /**
   * A replica refused this write's version as from the future: this node's clock jumped ahead. Its own copy,
   * if it was stored, is taken back once its put settles (the version from the future would otherwise sit here
   * until the time came, then beat every write made meanwhile), no hint is kept (it would be refused too), and
   * the client hears 503: the write was never acknowledged, and a replica missing the key is repaired.
   */
  private withdraw(record: StoredRecord, ownPut: Promise<unknown>, error: NodeError): never {
    this.withdrawOwn(record, ownPut);
    throw new NodeError("unavailable", `${error.message}; the write may or may not have been applied`, { cause: error });
  }

  /** Takes this node's own copy of a version its replicas refused as from the future back, once its put settled; its clock is suspect from now. */
  private withdrawOwn(record: StoredRecord, ownPut: Promise<unknown>): void {
    this.deps.onVersionRefused?.();
    void ownPut
      .catch(() => undefined)
      .then(() => this.deps.store.discard(record.key, record.version))
      .catch((discardError: unknown) => this.deps.onError?.("withdrawing a version from the future", discardError));
  }

  private hint(replica: string, record: StoredRecord): void {
    if (replica === this.deps.self) return;
    try {
      this.deps.hints.add(replica, record);
    } catch (hintError) {
      // The replica gets the write from read repair or anti-entropy instead; the write itself goes on.
      this.deps.onError?.("hint", hintError);
    }
  }

  private hintAndRethrow(replica: string, record: StoredRecord, error: unknown): never {
    this.hint(replica, record);
    throw error;
  }

  /**
   * Read repair after the answer: every replica that answered with an older version, or none, gets the newest
   * record of all answers: the one the read returned, or one a replica that answered late holds (fetched from it).
   */
  private async repair(key: string, fates: ReadonlyMap<string, Fate<Held>>, returned: StoredRecord | undefined, repaired: ReadonlyMap<string, StoredRecord>): Promise<void> {
    const answered = byAnswerer([...fates].flatMap(([replica, fate]) => (fate.ok ? [[replica, fate.value] as [string, Held]] : [])));
    const best = newest(answered, this.deps.self);
    let record = returned;
    if (best.held?.version !== undefined && (record === undefined || compareVersions(best.held.version, record.version) > 0)) {
      record = "record" in best.held ? best.held.record : await this.fetchNewest(best.from, key, best.held.version).catch(() => undefined);
    }
    if (record === undefined) return;
    const stale = staleOf(
      answered.map(([replica, held]): [string, Held] => {
        const given = repaired.get(replica);
        return [replica, given === undefined ? held : { version: given.version }];
      }),
      record,
    );
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

/** Settles on the first of `count` calls to succeed, or fails once all of them failed; at once for none. */
function firstSuccess(count: number): { readonly promise: Promise<void>; succeed(): void; fail(): void } {
  if (count === 0) return { promise: Promise.resolve(), succeed: () => undefined, fail: () => undefined };
  let failures = 0;
  let succeed: () => void = () => {};
  let fail: () => void = () => {};
  const promise = new Promise<void>((resolve, reject) => {
    succeed = resolve;
    fail = () => {
      if (++failures === count) reject(new NodeError("unavailable", "no other replica accepted this version, so this node did not store it either"));
    };
  });
  // Nobody may be waiting (the quorum met elsewhere): a rejection left unhandled would end the process.
  promise.catch(() => undefined);
  return { promise, succeed: () => succeed(), fail: () => fail() };
}

/** Whether two answers hold the same version, or both none. */
function sameVersion(a: Version | undefined, b: Version | undefined): boolean {
  return a === undefined || b === undefined ? a === b : compareVersions(a, b) === 0;
}

/** The replicas that answered with an older version than `record`'s, or none. */
function staleOf(answered: readonly [string, Held][], record: StoredRecord): string[] {
  return answered.filter(([, held]) => held.version === undefined || compareVersions(held.version, record.version) < 0).map(([replica]) => replica);
}

/** The step of a read that takes what it read as it is. */
/** A call that failed before it was made, passed through the caller's `failed` step when given. */
function rejected<R>(error: unknown, failed: ((error: unknown) => R | PromiseLike<R>) | undefined): Promise<R> {
  return failed === undefined ? Promise.reject(error) : Promise.reject(error).catch(failed);
}

function asIs<T>(value: T): T {
  return value;
}

function rethrowStoreError(error: unknown): never {
  throw fromStoreError(error);
}
