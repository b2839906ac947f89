// Runs anti-entropy rounds: with one live peer at a time (see peer-rotation.ts), narrow the digest tree of the keys both hold down to differing segments, and repair those.
import type { PeerTransport } from "./peer-transport.ts";
import type { RingRange } from "../ring/range.ts";
import type { Backend } from "../store/backend.ts";
import type { StoredRecord } from "../store/record.ts";
import { recordFingerprint } from "../store/segments.ts";
import { groupDigests, groupSegments, GROUPS_PER_REQUEST_MAX, rangesInSegments, sharedDigests, SEGMENTS_PER_ROUND_MAX, walkRanges } from "./anti-entropy.ts";
import { NO_FUTURE_BOUND, type FutureBound } from "../clock/future-bound.ts";
import { NodeError } from "./errors.ts";
import { PeerRotation } from "./peer-rotation.ts";
import { chunkRecords } from "./record-chunks.ts";
import { RECORDS_PER_REQUEST_MAX } from "./record-wire.ts";
import type { ReplicaService } from "./replica-service.ts";

/** Pages pulled from a peer in one round: bounds a round's work; the rest follows in later rounds. */
export const PULL_PAGES_MAX = 64;
/** How often the live peers are looked at for one that came back, in ms: it is compared with within about this (one list, no call). */
export const RETURN_CHECK_MS = 1000;

/**
 * The part of the peer transport anti-entropy uses. `ranges` in the digest calls: the ranges compared, those this
 * node shares with the target on its own ring; the target sums the same ones.
 */
export type AntiEntropyClient = Pick<PeerTransport, "differingGroups" | "differingSegments" | "segmentRecords" | "putReplica">;

export interface AntiEntropyDeps {
  readonly self: string;
  readonly store: Backend;
  readonly replicas: ReplicaService;
  readonly client: AntiEntropyClient;
  /** Live peers to choose from (not this node). */
  readonly peers: () => readonly string[];
  readonly random: () => number;
  readonly streamTimeoutMs: number;
  /**
   * The bound replicas hold versions to (this node's wall clock + MAX_CLOCK_SKEW_MS): a record beyond it is not
   * moved now, and the peer is compared with again once it is within. Unbounded when left out.
   */
  readonly future?: FutureBound;
  /** Monotonic ms; performance.now when left out. */
  readonly now?: () => number;
}

export interface ExchangeReport {
  readonly peer: string;
  /** Segments found to differ (at most SEGMENTS_PER_ROUND_MAX are repaired per round). */
  readonly segments: number;
  readonly pushed: number;
  readonly pulled: number;
  /** Records left where they were because their versions lie beyond the future bound for now. */
  readonly early: number;
}

export class AntiEntropy {
  private running = false;
  private timer: Timer | undefined;
  private watchTimer: Timer | undefined;
  private readonly rotation: PeerRotation;
  private repaired = 0;
  last: ExchangeReport | undefined;

  private readonly future: FutureBound;
  private readonly now: () => number;

  constructor(private readonly deps: AntiEntropyDeps) {
    this.rotation = new PeerRotation(deps.random);
    this.future = deps.future ?? NO_FUTURE_BOUND;
    this.now = deps.now ?? (() => performance.now());
  }

  get repairedCount(): number {
    return this.repaired;
  }

  async round(): Promise<ExchangeReport | undefined> {
    if (this.running) return undefined;
    const peer = this.rotation.next(this.deps.peers(), this.now());
    if (peer === undefined) return undefined;
    this.running = true;
    try {
      return await this.exchange(peer);
    } catch {
      return undefined; // A peer that fails mid-exchange is tried again in a later round.
    } finally {
      this.running = false;
    }
  }

  /**
   * Compares the digest tree of the keys both hold with one peer (256 group digests; then the segments
   * of differing groups), pulls the peer's records of differing segments and pushes this node's records
   * there that the peer did not send as they are. Identical replicas exchange the group digests only.
   */
  async exchange(peer: string): Promise<ExchangeReport> {
    const { self, store, replicas, client } = this.deps;
    const { ranges, segments } = await this.differingSegments(peer, SEGMENTS_PER_ROUND_MAX);
    const repairing = segments.slice(0, SEGMENTS_PER_ROUND_MAX);
    let pushed = 0;
    let pulled = 0;
    // Records from beyond the future bound (written while a clock ran ahead) wait: a replica would refuse them now,
    // and a page of nothing else would be refused whole. The peer is compared with again once they are within it
    // (plus one look, so the bound has surely passed), even when the exchange fails after finding them.
    let aheadMs = 0;
    let early = 0;
    const withinBound = (record: StoredRecord) => record.version.wallMs <= this.future.limitMs();
    const noteEarly = (record: StoredRecord) => {
      aheadMs = Math.max(aheadMs, record.version.wallMs - this.future.limitMs());
      early++;
    };
    try {
      if (repairing.length > 0) {
        // What the peer holds there, by fingerprint: a record of this node's that matches is not sent back.
        const theirs = new Map<string, number>();
        let after: string | undefined;
        for (let page = 0; page < PULL_PAGES_MAX; page++) {
          const { records, next } = await client.segmentRecords(peer, self, ranges, repairing, after);
          for (const record of records) theirs.set(record.key, recordFingerprint(record));
          const take: StoredRecord[] = [];
          for (const record of records) {
            if (withinBound(record)) take.push(record);
            // Rare (a clock ran ahead): one read each, so a record this node holds as it is calls for no retry.
            else if (!(await this.holds(record))) noteEarly(record);
          }
          const outcomes = await replicas.put(take);
          pulled += outcomes.filter((outcome) => outcome.applied).length;
          if (next === undefined) break;
          after = next;
        }
        let outgoing: StoredRecord[] = [];
        const send = async () => {
          for (const chunk of chunkRecords(outgoing)) {
            try {
              await client.putReplica(peer, chunk, this.deps.streamTimeoutMs);
              pushed += chunk.length;
            } catch (error) {
              // The peer's clock is behind this node's (within the bound): it refused a chunk of records it finds early.
              // The rest still goes; those follow in a later round.
              if (!(error instanceof NodeError && error.code === "clock_skew")) throw error;
              early += chunk.length;
            }
          }
          outgoing = [];
        };
        for await (const record of walkRanges(store, rangesInSegments(ranges, repairing))) {
          if (theirs.get(record.key) === recordFingerprint(record)) continue;
          if (!withinBound(record)) {
            noteEarly(record);
            continue;
          }
          outgoing.push(record);
          if (outgoing.length >= RECORDS_PER_REQUEST_MAX) await send();
        }
        await send();
      }
    } finally {
      if (aheadMs > 0) this.rotation.again(peer, this.now() + aheadMs + RETURN_CHECK_MS);
    }
    this.repaired += pulled;
    this.last = { peer, segments: segments.length, pushed, pulled, early };
    return this.last;
  }

  /** Whether this node holds `record` exactly as it is. */
  private async holds(record: StoredRecord): Promise<boolean> {
    const mine = await this.deps.replicas.get(record.key);
    return mine !== undefined && recordFingerprint(mine) === recordFingerprint(record);
  }

  /**
   * The segments where this node's and `peer`'s digests of `ranges` (left out: the ranges both replicate)
   * differ, found by the digest tree; stops asking once it has `limit` of them. Identical replicas cost one
   * exchange.
   */
  async differingSegments(peer: string, limit = Number.POSITIVE_INFINITY, ranges: readonly RingRange[] = this.deps.replicas.sharedRanges(peer)): Promise<{ ranges: readonly RingRange[]; segments: number[] }> {
    const { self, store, client } = this.deps;
    const mine = await sharedDigests(store, ranges);
    const groups = await client.differingGroups(peer, self, ranges, groupDigests(mine));
    const segments: number[] = [];
    for (let i = 0; i < groups.length && segments.length < limit; i += GROUPS_PER_REQUEST_MAX) {
      const chunk = groups.slice(i, i + GROUPS_PER_REQUEST_MAX);
      segments.push(...(await client.differingSegments(peer, self, ranges, chunk, groupSegments(mine, chunk))));
    }
    return { ranges, segments };
  }

  /** A round every `intervalMs`, and one as soon as a peer comes back (looked for every RETURN_CHECK_MS). */
  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.round(), intervalMs);
    this.watchTimer = setInterval(() => this.watch(), RETURN_CHECK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.watchTimer);
    this.timer = undefined;
    this.watchTimer = undefined;
  }

  /** Notes peers that came back or are due again; starts a round with one unless a round is running (the next look tries again). */
  watch(): void {
    this.rotation.look(this.deps.peers(), this.now());
    if (this.rotation.due && !this.running) void this.round();
  }
}
