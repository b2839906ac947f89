// Moves data when the ring changes: streams the ranges whose replicas changed to their new replicas, and drops them here once they hold them.
import { movesBetween, type Arc, type Move } from "../ring/arcs.ts";
import { mergeRanges, type RingRange } from "../ring/range.ts";
import type { Ring } from "../ring/ring.ts";
import type { Backend } from "../store/backend.ts";
import type { StoredRecord } from "../store/record.ts";
import { segmentOf } from "../store/segments.ts";
import { rangesInSegments } from "./anti-entropy.ts";

/** Records read from the store per step of a pass. */
export const SCAN_BATCH_RECORDS = 1024;
/** Pause before a pass that could not reach every target is tried again. */
export const REBALANCE_RETRY_MS = 1000;

export interface RebalanceDeps {
  readonly self: string;
  readonly store: Backend;
  /** A ring's arcs with their replicas (the first replication-factor distinct nodes clockwise). */
  readonly arcs: (ring: Ring) => readonly Arc[];
  /** Sends records to a replica and resolves once it stored them; throws when it cannot. */
  readonly push: (target: string, records: readonly StoredRecord[]) => Promise<void>;
  readonly onPass?: (report: PassReport) => void;
  /** A pass that failed outright (the store could not be read); it is tried again like one that missed a target. */
  readonly onError?: (error: unknown) => void;
  /**
   * Runs a pass apart from whatever woke it: a ring change learnt while answering a request or a
   * gossip message must not make the streaming part of that request's trace. Main passes the
   * tracer's; without telemetry it is a plain call.
   */
  readonly detach?: <T>(run: () => T) => T;
  /**
   * Whether the node has joined its cluster. Until it has, every ring it learns is its own partial
   * view of a cluster whose data is already placed, so it is taken as placed, not streamed to: a node
   * restarting with a million keys would otherwise send them all to the peers it learns of one by one.
   * Left out, the node counts as joined from the start.
   */
  readonly joined?: () => boolean;
  /**
   * The segments (sorted) where this node's and `target`'s digests of `ranges` (left out: the ranges both
   * replicate) differ, or undefined when that cannot be told. A range this node keeps and sends to a new
   * replica is sent only in those segments: a peer that held the data all along (a node restarting learns
   * its peers one by one, and each looks new to it) is sent nothing. So is a range this node gives up when
   * no replica gains it (a leave that leaves fewer nodes than the replication factor): the replicas that
   * remain held it all along, and each is sent only what its digests lack. Left out, everything is sent.
   */
  readonly differing?: (target: string, ranges?: readonly RingRange[]) => Promise<readonly number[] | undefined>;
}

export interface PassReport {
  readonly scanned: number;
  readonly streamed: number;
  readonly dropped: number;
  readonly failedTargets: readonly string[];
  readonly durationMs: number;
}

export interface RebalanceProgress {
  readonly running: boolean;
  /** True until the data is placed for the current ring: between a failed pass and its retry too. */
  readonly pending: boolean;
  readonly passes: number;
  readonly streamed: number;
  readonly dropped: number;
  /**
   * Records whose batch every target of its range holds (sent, or its digests matched), counted as each batch is
   * delivered (of a range given up, as each record is dropped here), mid-pass too: what a leaving node watches to
   * tell a hand-off that moves from one that is stuck (a target that refuses or cannot be reached, or a store that
   * cannot drop, adds nothing, however often the pass is tried again).
   */
  readonly delivered: number;
  readonly last: PassReport | undefined;
}

export class Rebalancer {
  /** The ring every record was last placed for; a pass streams the difference to the current one. */
  private placed: Ring;
  private target: Ring;
  private running: Promise<void> | undefined;
  private retryTimer: Timer | undefined;
  private stopped = false;
  private totals = { passes: 0, streamed: 0, dropped: 0 };
  private delivered = 0;
  private last: PassReport | undefined;
  private joinedOnce = false;

  constructor(private readonly deps: RebalanceDeps, initial: Ring) {
    this.placed = initial;
    this.target = initial;
    this.joinedOnce = deps.joined?.() ?? true;
  }

  get progress(): RebalanceProgress {
    return { running: this.running !== undefined, pending: this.placed !== this.target, ...this.totals, delivered: this.delivered, last: this.last };
  }

  /** Called on every ring change; passes never overlap, and the latest ring always wins. */
  ringChanged(ring: Ring): void {
    this.target = ring;
    // The change that completes the join is adopted too: what it adds, others had all along.
    if (!this.joinedOnce) {
      this.placed = ring;
      this.joinedOnce = this.deps.joined?.() ?? true;
      return;
    }
    this.kick();
  }


  /**
   * Resolves once the data is placed for the current ring (or the rebalancer stopped), or once the last pass
   * missed only targets `unreachable` says are down: a node leaving hands off what it can and goes, and a
   * replica that was down gets its copies from the others' anti-entropy once it is back.
   */
  async settle(unreachable: (target: string) => boolean = () => false): Promise<void> {
    while (!this.stopped && (this.running !== undefined || this.placed !== this.target)) {
      this.kick();
      await this.running;
      const missed = this.last?.failedTargets ?? [];
      if (this.placed !== this.target && missed.length > 0 && missed.every(unreachable)) return;
      if (this.placed !== this.target && !this.stopped) await Bun.sleep(REBALANCE_RETRY_MS);
    }
  }

  /**
   * Moves strays: records this node holds but does not replicate under its settled ring. They arrive
   * after its own pass: pushed by a peer whose ring still differed (its rebalancing, or anti-entropy,
   * which sends every key it thinks both share), or a hint for a former replica. No ring change would
   * move them, anti-entropy only compares keys both sides replicate, and they may be a key's only copy.
   * A pass from the ring to itself streams exactly those to their replicas and drops them once all confirmed.
   */
  sweep(): void {
    // A join that completed without a ring change is noticed here, so the next change is streamed.
    if (!this.joinedOnce) this.joinedOnce = this.deps.joined?.() ?? true;
    if (this.running !== undefined || this.stopped || this.placed !== this.target) return;
    this.start(this.placed, this.placed);
  }

  /**
   * For a node that leaves, once it takes no more requests: passes over the settled ring, which no longer holds
   * this node, until one finds nothing left here (true), so that what arrived after its range was read (a write
   * in flight, a hint, a push from a peer whose ring still held this node) goes out too. False once a pass
   * missed only targets `unreachable` says are down, or the rebalancer stopped; a pass that failed is tried again.
   */
  async drain(unreachable: (target: string) => boolean = () => false): Promise<boolean> {
    while (!this.stopped) {
      await this.settle(unreachable);
      if (this.stopped || this.placed !== this.target) return false;
      await this.running;
      if (this.running !== undefined || this.placed !== this.target) continue;
      const report = await this.start(this.placed, this.placed);
      if (report !== undefined && report.scanned === 0) return true;
      if (report !== undefined && report.failedTargets.length > 0 && report.failedTargets.every(unreachable)) return false;
      if (report === undefined || report.failedTargets.length > 0) await Bun.sleep(REBALANCE_RETRY_MS);
    }
    return false;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  private kick(): void {
    if (this.running !== undefined || this.stopped || this.placed === this.target) return;
    this.start(this.placed, this.target);
  }

  /** Runs a pass; resolves with its report once it is over, or undefined when it failed outright. */
  private start(from: Ring, to: Ring): Promise<PassReport | undefined> {
    const detach = this.deps.detach ?? ((run) => run());
    let outcome: PassReport | undefined;
    this.running = detach(() => this.pass(from, to))
      .then((report) => {
        outcome = report;
        // A sweep that found no stray is not a pass worth reporting.
        if (from === to && report.streamed === 0 && report.dropped === 0 && report.failedTargets.length === 0) return;
        this.last = report;
        this.totals = { passes: this.totals.passes + 1, streamed: this.totals.streamed + report.streamed, dropped: this.totals.dropped + report.dropped };
        this.deps.onPass?.(report);
        // A target that could not be reached keeps the old placement, so the next pass streams to it again.
        if (report.failedTargets.length === 0) this.placed = to;
      })
      // Nothing awaits a pass started by a ring change: a rejection left unhandled would end the process.
      .catch((error: unknown) => this.deps.onError?.(error))
      .finally(() => {
        this.running = undefined;
        if (this.placed !== this.target && !this.stopped) {
          const delay = this.target === to ? REBALANCE_RETRY_MS : 0;
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => this.kick(), delay);
        }
      });
    return this.running.then(() => outcome);
  }

  /**
   * What this node has to send for a change of ring. A range it gives up goes to the replicas that
   * gain it and is dropped here once they hold it. A range it keeps goes to its new replicas only
   * from one sender, so each moved range crosses the wire once: a replica that gives it up and is
   * still a member sends it; when none is (it died or left), the first remaining old replica does.
   * From a ring to itself (the sweep): strays, records in ranges this node does not replicate.
   */
  private jobs(from: Ring, to: Ring): Job[] {
    const { self, arcs } = this.deps;
    if (from === to) {
      return arcs(to)
        .filter((arc) => !arc.replicas.includes(self))
        .map((arc) => ({ range: arc.range, targets: arc.replicas, leaving: true }));
    }
    return movesBetween(arcs(from), arcs(to)).flatMap((move): Job[] => {
      if (!move.before.includes(self)) return [];
      const gaining = move.after.filter((node) => !move.before.includes(node));
      // Given up: to the replicas gaining it, so this copy lives on there (the replicas it keeps hold their
      // own); when none gains it (the ring shrank below the replication factor), to those that remain.
      if (!move.after.includes(self)) return [gaining.length > 0 ? { range: move.range, targets: gaining, leaving: true } : { range: move.range, targets: move.after, leaving: true, held: true }];
      return gaining.length > 0 && senderOf(move, to) === self ? [{ range: move.range, targets: gaining, leaving: false }] : [];
    });
  }

  private async pass(from: Ring, to: Ring): Promise<PassReport> {
    const started = performance.now();
    const { store, push } = this.deps;
    const failed = new Set<string>();
    let scanned = 0;
    let streamed = 0;
    let dropped = 0;
    const differing = new Map<string, Promise<readonly number[] | undefined>>();
    const differingWith = (target: string) => {
      if (!differing.has(target)) differing.set(target, this.deps.differing?.(target).catch(() => undefined) ?? Promise.resolve(undefined));
      return differing.get(target)!;
    };
    let discarding: Promise<void> = Promise.resolve();
    const jobs = this.jobs(from, to);
    // Ranges given up to replicas that held them all along, by target: compared with each in one digest walk.
    const heldBy = new Map<string, RingRange[]>();
    for (const job of jobs) {
      if (!job.held) continue;
      for (const node of job.targets) {
        const ranges = heldBy.get(node);
        if (ranges === undefined) heldBy.set(node, [job.range]);
        else ranges.push(job.range);
      }
    }
    const lacking = new Map<string, Promise<Lacking | undefined>>();
    const lackingAt = (target: string) => {
      let found = lacking.get(target);
      if (found === undefined) {
        found = (async () => {
          // This node's digests as they were compared, taken first: a segment that changes here later (a write that
          // came in meanwhile) no longer counts as held, and its records go out.
          const compared = (await store.segmentDigests()).slice();
          // Contiguous ranges as one: a node leaving a cluster smaller than the replication factor held the whole ring.
          const segments = await (this.deps.differing?.(target, mergeRanges(heldBy.get(target) ?? [])).catch(() => undefined) ?? undefined);
          return segments === undefined ? undefined : { segments: new Set(segments), compared };
        })();
        lacking.set(target, found);
      }
      return found;
    };
    /** Sends a batch to the job's targets (of a range they held, only what they lack); once all hold it and the range is given up, drops it here. */
    const deliver = async (job: Job, batch: readonly StoredRecord[]): Promise<void> => {
      // Of a range the targets held: what each lacks, then this node's digests now, read once per batch (a
      // store may build them from its records: the file store does).
      const lacksOf = job.held ? await Promise.all(job.targets.map(lackingAt)) : undefined;
      const now = lacksOf?.some((lacks) => lacks !== undefined) ? await store.segmentDigests() : undefined;
      // A target that failed once in this pass is not waited on again; the retry pass tries it.
      const delivered = await Promise.all(
        job.targets.map(async (node, i) => {
          if (failed.has(node)) return false;
          const lacks = lacksOf?.[i];
          const records =
            lacks === undefined
              ? batch
              : batch.filter((record) => {
                  const segment = segmentOf(record.key);
                  return lacks.segments.has(segment) || now![segment] !== lacks.compared[segment];
                });
          // Its digests match these records' segments: it holds them as they are.
          if (records.length === 0) return true;
          try {
            await push(node, records);
            streamed += records.length;
            return true;
          } catch {
            failed.add(node);
            return false;
          }
        }),
      );
      const held = job.targets.length > 0 && delivered.every(Boolean);
      // A range kept counts once its targets hold it; one given up once it is dropped here too, so a store that
      // cannot drop (a failing disk) does not look like a hand-off that moves while each pass sends it all again.
      if (held && !job.leaving) this.delivered += batch.length;
      if (job.leaving && held) {
        // Discards go through the store's group commit together, while the next batch is read and sent.
        await discarding;
        discarding = Promise.all(batch.map((record) => store.discard(record.key, record.version))).then((outcomes) => {
          const gone = outcomes.filter(Boolean).length;
          dropped += gone;
          this.delivered += gone;
        });
      }
    };
    // One batch in flight while the next is read: the store's scan overlaps the wire and the receiver.
    let sending: Promise<void> = Promise.resolve();
    for (const job of jobs) {
      // A kept range goes out only where digests say its (single) target lacks something.
      const segments = job.leaving || job.targets.length !== 1 ? undefined : await differingWith(job.targets[0]!);
      for (const range of segments === undefined ? [job.range] : mergeRanges(rangesInSegments([job.range], segments))) {
        for (let after: string | undefined; !this.stopped; ) {
          const batch = await store.scanRing(range, after, SCAN_BATCH_RECORDS);
          if (batch.length === 0) break;
          after = batch.at(-1)!.key;
          scanned += batch.length;
          await sending;
          sending = deliver(job, batch);
          if (batch.length < SCAN_BATCH_RECORDS) break;
        }
      }
    }
    await sending;
    await discarding;
    return { scanned, streamed, dropped, failedTargets: [...failed].sort(), durationMs: Math.round(performance.now() - started) };
  }
}

/** What a target lacks of ranges it held: the segments whose digests differed, and this node's digests as compared. */
interface Lacking {
  readonly segments: ReadonlySet<number>;
  readonly compared: Uint32Array;
}

interface Job {
  readonly range: RingRange;
  readonly targets: readonly string[];
  /** This node gives the range up: it drops each record once every target holds it. */
  readonly leaving: boolean;
  /** The targets replicated the range before the change (none gains it): each is sent only what its digests lack. */
  readonly held?: boolean;
}

/** The one replica that sends a moved range to the nodes gaining it. */
function senderOf(move: Move, to: Ring): string | undefined {
  const leaver = move.before.find((node) => !move.after.includes(node) && to.nodes.includes(node));
  return leaver ?? move.before.find((node) => move.after.includes(node));
}
