// Hinted handoff: delivers each replica's hints, oldest first, once gossip says the replica is active again,
// and drops the hints of a replica the cluster has forgotten.
import type { StoredRecord } from "../store/record.ts";
import { NodeError } from "./errors.ts";
import type { Hint, HintStore } from "./hint-store.ts";

/** Hints sent per request; delivery of a long backlog goes on round after round. */
export const HINTS_PER_DELIVERY = 256;

export interface HintDeliveryDeps {
  readonly hints: HintStore;
  /** True when the member is active: a stale or dead one would only time out. */
  readonly isActive: (nodeUrl: string) => boolean;
  /** True when the member table holds the member in any state, dead included. */
  readonly isKnown: (nodeUrl: string) => boolean;
  /** True once this node knows another member: before that, every target is unknown and none is judged forgotten. */
  readonly hasPeers: () => boolean;
  /**
   * How long a target must stay unknown, while this node has peers, before its hints are dropped: long
   * enough for gossip to bring in every live member after a restart (main passes the dead-after time).
   */
  readonly forgetAfterMs: number;
  readonly clock: () => number;
  /** Stores records on the replica; throws when it cannot. Delivery is idempotent: last write wins there. */
  readonly push: (target: string, records: readonly StoredRecord[]) => Promise<void>;
  readonly onError?: (error: unknown) => void;
}

export class HintDelivery {
  private running = false;
  private timer: Timer | undefined;
  private delivered = 0;
  private refused = 0;
  /** When each target with hints was first found missing from the member table, while this node had peers. */
  private readonly unknownSince = new Map<string, number>();

  constructor(private readonly deps: HintDeliveryDeps) {}

  get deliveredCount(): number {
    return this.delivered;
  }

  /** Hints dropped because their replica refused the record itself (a limit that differs between nodes). */
  get refusedCount(): number {
    return this.refused;
  }

  /**
   * One delivery round over every target with a backlog; rounds never overlap. Its cost follows the
   * targets with hints, plus the hints delivered.
   */
  async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const targets = [...this.deps.hints.backlog().keys()];
      this.forgetUnknown(targets);
      for (const target of targets) {
        if (!this.deps.isActive(target)) continue;
        await this.drain(target);
      }
    } finally {
      this.running = false;
    }
  }

  start(intervalMs: number): void {
    this.stop();
    // A failing round (the hint file unreadable) must not end the process; the next round tries again.
    this.timer = setInterval(() => void this.round().catch((error: unknown) => this.deps.onError?.(error)), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Drops the hints of targets the member table has not held for forgetAfterMs: forgotten after being
   * dead for long, or never a member since this node started. Such a target gets no delivery round, so
   * its hints would otherwise stay for good; if it ever returns, anti-entropy brings it up to date.
   */
  private forgetUnknown(targets: readonly string[]): void {
    const now = this.deps.clock();
    const hasPeers = this.deps.hasPeers();
    const waiting = new Set(targets);
    for (const target of this.unknownSince.keys()) if (!waiting.has(target)) this.unknownSince.delete(target);
    for (const target of targets) {
      if (this.deps.isKnown(target) || !hasPeers) {
        this.unknownSince.delete(target);
        continue;
      }
      const since = this.unknownSince.get(target);
      if (since === undefined) this.unknownSince.set(target, now);
      else if (now - since >= this.deps.forgetAfterMs) {
        this.deps.hints.dropTarget(target, "forgotten");
        this.unknownSince.delete(target);
      }
    }
  }

  private async drain(target: string): Promise<void> {
    for (;;) {
      const batch = this.deps.hints.batch(target, HINTS_PER_DELIVERY);
      if (batch.length === 0) return;
      try {
        await this.deps.push(target, batch.map((hint) => hint.record));
      } catch (error) {
        // The replica went away again: the hints wait for the next round. One that refuses the content
        // itself would refuse it forever and block every later hint, so the batch goes one by one.
        if (!refusal(error) || !(await this.oneByOne(target, batch))) return;
        continue;
      }
      this.deps.hints.remove(batch.map((hint) => hint.id));
      this.delivered += batch.length;
    }
  }

  /** Delivers hints singly, dropping those the replica refuses; false when the replica stops answering. */
  private async oneByOne(target: string, batch: readonly Hint[]): Promise<boolean> {
    for (const hint of batch) {
      try {
        await this.deps.push(target, [hint.record]);
        this.delivered++;
        this.deps.hints.remove([hint.id]);
      } catch (error) {
        if (!refusal(error)) return false;
        this.refused++;
        this.deps.hints.drop([hint.id], "refused");
        this.deps.onError?.(new Error(`replica ${target} refused the hint for one key and it was dropped: ${error instanceof Error ? error.message : String(error)}`));
      }
    }
    return true;
  }
}

/** A replica that answered "bad request" or "too large" refuses the record, not the moment. */
function refusal(error: unknown): boolean {
  return error instanceof NodeError && (error.code === "bad_request" || error.code === "too_large");
}
