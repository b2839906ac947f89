// Moves data when the ring changes: streams each record to its new replicas and drops it here once they hold it.
import type { Ring } from "../ring/ring.ts";
import type { Backend } from "../store/backend.ts";
import type { StoredRecord } from "../store/record.ts";

/** Records read from the store per step of a pass. */
export const SCAN_BATCH_RECORDS = 256;
/** Pause before a pass that could not reach every target is tried again. */
export const REBALANCE_RETRY_MS = 1000;

export interface RebalanceDeps {
  readonly self: string;
  readonly store: Backend;
  /** The replicas of a key under a ring: the first replication-factor distinct nodes clockwise. */
  readonly replicasFor: (ring: Ring, key: string) => readonly string[];
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
  private last: PassReport | undefined;

  constructor(private readonly deps: RebalanceDeps, initial: Ring) {
    this.placed = initial;
    this.target = initial;
  }

  get progress(): RebalanceProgress {
    return { running: this.running !== undefined, pending: this.placed !== this.target, ...this.totals, last: this.last };
  }

  /** Called on every ring change; passes never overlap, and the latest ring always wins. */
  ringChanged(ring: Ring): void {
    this.target = ring;
    this.kick();
  }

  /** Resolves once the data is placed for the current ring (or the rebalancer stopped). */
  async settle(): Promise<void> {
    while (!this.stopped && (this.running !== undefined || this.placed !== this.target)) {
      this.kick();
      await this.running;
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
    if (this.running !== undefined || this.stopped || this.placed !== this.target) return;
    this.start(this.placed, this.placed);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  private kick(): void {
    if (this.running !== undefined || this.stopped || this.placed === this.target) return;
    this.start(this.placed, this.target);
  }

  private start(from: Ring, to: Ring): void {
    const detach = this.deps.detach ?? ((run) => run());
    this.running = detach(() => this.pass(from, to))
      .then((report) => {
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
  }

  private async pass(from: Ring, to: Ring): Promise<PassReport> {
    const started = performance.now();
    const { self, store, replicasFor, push } = this.deps;
    const failed = new Set<string>();
    let scanned = 0;
    let streamed = 0;
    let dropped = 0;
    let after: string | undefined;
    for (;;) {
      if (this.stopped) break;
      const batch = await store.scan(after, SCAN_BATCH_RECORDS);
      if (batch.length === 0) break;
      after = batch.at(-1)!.key;
      scanned += batch.length;
      const byTarget = new Map<string, StoredRecord[]>();
      const leaving: { record: StoredRecord; targets: readonly string[] }[] = [];
      for (const record of batch) {
        const next = replicasFor(to, record.key);
        // A record this node keeps goes only to replicas that are new; one it gives up goes to all, to be sure.
        const targets = next.includes(self) ? next.filter((node) => node !== self && !replicasFor(from, record.key).includes(node)) : next;
        if (!next.includes(self)) leaving.push({ record, targets });
        for (const node of targets) byTarget.set(node, [...(byTarget.get(node) ?? []), record]);
      }
      const delivered = new Set<string>();
      await Promise.all(
        [...byTarget].map(async ([node, records]) => {
          try {
            await push(node, records);
            delivered.add(node);
            streamed += records.length;
          } catch {
            failed.add(node);
          }
        }),
      );
      for (const { record, targets } of leaving) {
        if (targets.length === 0 || !targets.every((node) => delivered.has(node))) continue;
        if (await store.discard(record.key, record.version)) dropped++;
      }
    }
    return { scanned, streamed, dropped, failedTargets: [...failed].sort(), durationMs: Math.round(performance.now() - started) };
  }
}
