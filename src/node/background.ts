// The node's background work: rebalancing on ring changes, hinted handoff, anti-entropy and tombstone purge.
import type { Backend } from "../store/backend.ts";
import type { StoredRecord } from "../store/record.ts";
import { AntiEntropy, type AntiEntropyClient } from "./anti-entropy-loop.ts";
import { HintDelivery } from "./hint-delivery.ts";
import type { HintStore } from "./hint-store.ts";
import type { LimeNode } from "./node.ts";
import { Rebalancer, type PassReport } from "./rebalancer.ts";
import { chunkRecords } from "./record-chunks.ts";
import { ReplicaService } from "./replica-service.ts";
import { NO_FUTURE_BOUND, type FutureBound } from "../clock/future-bound.ts";
import { SEGMENT_COUNT } from "../store/segments.ts";
import { NodeError } from "./errors.ts";

/** How often waiting hints are offered to replicas that are back. */
export const HINT_INTERVAL_MS = 1000;
/** How often tombstones past their TTL and expired records are purged (by index: the cost is what is purged). */
export const PURGE_INTERVAL_MS = 60_000;
/**
 * Segments recounted from the records per anti-entropy interval: the whole hash space every 512
 * intervals (about 85 minutes at the default 10 s). At 1M keys a segment holds ~15 records, read in
 * order from the table (sqlite stores records in ring order), so a round costs ~6 ms of CPU
 * (bun bench/verify-cost.ts FILE; 84 ms when records were keyed by key): far under 1 % of a core.
 */
export const VERIFY_SEGMENTS_PER_ROUND = 128;
/** Segments recounted in one synchronous store call: ~2 ms at 1M keys, what a request may wait behind it. */
const VERIFY_SEGMENTS_PER_STEP = 32;

export interface BackgroundDeps {
  readonly node: LimeNode;
  readonly store: Backend;
  readonly hints: HintStore;
  readonly client: AntiEntropyClient;
  readonly streamTimeoutMs: number;
  readonly antiEntropyIntervalMs: number;
  readonly tombstoneTtlMs: number;
  /** How long a target of hints may be missing from the member table before its hints are dropped. */
  readonly hintForgetAfterMs: number;
  readonly random: () => number;
  readonly clock: () => number;
  readonly onPass?: (report: PassReport) => void;
  readonly onError?: (what: string, error: unknown) => void;
  /** Segments whose digests disagreed with their records (lost or changed behind the store's back) and were corrected. */
  readonly onDigestsCorrected?: (segments: number) => void;
  /** See RebalanceDeps.detach. */
  readonly detach?: <T>(run: () => T) => T;
  /** The bound on versions from the future that replicas refuse; unbounded when left out (in-process tests). */
  readonly future?: FutureBound;
  /**
   * Peers no background work waits on: members held dead and peers whose calls lately got no answer (see
   * reachability.ts). A pass skips them at once (and tries again later), hints wait for them. Left out, none.
   */
  readonly isDown?: (nodeUrl: string) => boolean;
  /** See ReplicaServiceDeps.leaving. */
  readonly leaving?: () => boolean;
}

export interface BackgroundStatus {
  readonly hintBacklog: number;
  readonly hintsByTarget: Record<string, number>;
  readonly hintsDelivered: number;
  readonly readRepairs: number;
  readonly antiEntropyRepairs: number;
  readonly rebalance: Rebalancer["progress"];
}

export class Background {
  readonly replicas: ReplicaService;
  readonly rebalancer: Rebalancer;
  private readonly delivery: HintDelivery;
  private readonly antiEntropy: AntiEntropy;
  private purgeTimer: Timer | undefined;
  private sweepTimer: Timer | undefined;
  private verifyFrom = 0;

  constructor(private readonly deps: BackgroundDeps) {
    const { node, store } = deps;
    this.replicas = new ReplicaService({
      self: node.nodeUrl,
      store,
      clock: node.clock,
      ring: () => node.ring,
      replicasFor: (ring, key) => node.replicasFor(key, ring),
      arcs: (ring) => node.arcsFor(ring),
      valueBytesMax: node.valueBytesMax,
      future: deps.future ?? NO_FUTURE_BOUND,
      leaving: deps.leaving,
    });
    const push = (target: string, records: readonly StoredRecord[]) => this.push(target, records);
    this.rebalancer = new Rebalancer(
      {
        self: node.nodeUrl,
        store,
        arcs: (ring) => node.arcsFor(ring),
        joined: () => node.isJoined(),
        // A target that is down is not asked (a partitioned one would hold the pass for the stream timeout): the push fails at once.
        differing: async (target, ranges) => (deps.isDown?.(target) === true ? undefined : (await this.antiEntropy.differingSegments(target, Number.POSITIVE_INFINITY, ranges)).segments.sort((a, b) => a - b)),
        push,
        onPass: deps.onPass,
        onError: (error) => deps.onError?.("rebalance", error),
        detach: deps.detach,
      },
      node.ring,
    );
    node.onRingChange((ring) => this.rebalancer.ringChanged(ring));
    const isDown = deps.isDown ?? (() => false);
    this.delivery = new HintDelivery({
      hints: deps.hints,
      isActive: (url) => node.members.get(url)?.state === "active" && !isDown(url),
      // A removed member owns nothing any more: its hints go the way of a forgotten one's.
      isKnown: (url) => {
        const member = node.members.get(url);
        return member !== undefined && member.removed !== true;
      },
      hasPeers: () => node.members.list().length > 1,
      forgetAfterMs: deps.hintForgetAfterMs,
      clock: deps.clock,
      push,
      onError: (error) => deps.onError?.("hint delivery", error),
    });
    this.antiEntropy = new AntiEntropy({
      self: node.nodeUrl,
      store,
      replicas: this.replicas,
      client: deps.client,
      peers: () => node.ring.nodes.filter((url) => url !== node.nodeUrl && !isDown(url)),
      random: deps.random,
      streamTimeoutMs: deps.streamTimeoutMs,
      future: deps.future,
    });
  }

  start(): void {
    this.delivery.start(HINT_INTERVAL_MS);
    this.antiEntropy.start(this.deps.antiEntropyIntervalMs);
    // Strays are replicas disagreeing about where a record lives: repaired on the anti-entropy beat,
    // as is a step of the recount that finds records lost behind the store's back.
    this.sweepTimer = setInterval(() => {
      this.rebalancer.sweep();
      void this.verifyStep();
    }, this.deps.antiEntropyIntervalMs);
    this.purgeTimer = setInterval(() => {
      this.deps.store.purge(this.deps.clock() - this.deps.tombstoneTtlMs).catch((error: unknown) => this.deps.onError?.("purge", error));
    }, PURGE_INTERVAL_MS);
  }

  stop(): void {
    this.delivery.stop();
    this.antiEntropy.stop();
    this.rebalancer.stop();
    clearInterval(this.purgeTimer);
    clearInterval(this.sweepTimer);
  }

  status(): BackgroundStatus {
    return {
      hintBacklog: this.deps.hints.count(),
      hintsByTarget: Object.fromEntries(this.deps.hints.backlog()),
      hintsDelivered: this.delivery.deliveredCount,
      readRepairs: this.deps.node.replication.repairedCount,
      antiEntropyRepairs: this.antiEntropy.repairedCount,
      rebalance: this.rebalancer.progress,
    };
  }

  private async verifyStep(): Promise<void> {
    const from = this.verifyFrom;
    this.verifyFrom = (from + VERIFY_SEGMENTS_PER_ROUND) % SEGMENT_COUNT;
    try {
      let wrong = 0;
      // In steps of ~2,000 records at 1M keys, so a request waits a few ms at most behind one.
      for (let first = from; first < from + VERIFY_SEGMENTS_PER_ROUND; first += VERIFY_SEGMENTS_PER_STEP) {
        wrong += await this.deps.store.verifySegments(first, VERIFY_SEGMENTS_PER_STEP);
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (wrong > 0) this.deps.onDigestsCorrected?.(wrong);
    } catch (error) {
      this.deps.onError?.("digest verification", error);
    }
  }

  /** Sends records to a replica; one that is down fails at once, so a pass moves on to the others and retries it later. */
  private async push(target: string, records: readonly StoredRecord[]): Promise<void> {
    for (const chunk of chunkRecords(records)) {
      if (this.deps.isDown?.(target) === true) throw new NodeError("unavailable", `replica ${target} is down; it is tried again later`);
      await this.deps.client.putReplica(target, chunk, this.deps.streamTimeoutMs);
    }
  }
}
