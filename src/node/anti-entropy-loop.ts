// Runs anti-entropy rounds: with one random live peer, narrow the digest tree of the keys both hold down to differing segments, and repair those.
import type { PeerTransport } from "./peer-transport.ts";
import type { RingRange } from "../ring/range.ts";
import type { Backend } from "../store/backend.ts";
import type { StoredRecord } from "../store/record.ts";
import { recordFingerprint } from "../store/segments.ts";
import { groupDigests, groupSegments, GROUPS_PER_REQUEST_MAX, rangesInSegments, sharedDigests, SEGMENTS_PER_ROUND_MAX, walkRanges } from "./anti-entropy.ts";
import { chunkRecords } from "./record-chunks.ts";
import { RECORDS_PER_REQUEST_MAX } from "./record-wire.ts";
import type { ReplicaService } from "./replica-service.ts";

/** Pages pulled from a peer in one round: bounds a round's work; the rest follows in later rounds. */
export const PULL_PAGES_MAX = 64;

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
}

export interface ExchangeReport {
  readonly peer: string;
  /** Segments found to differ (at most SEGMENTS_PER_ROUND_MAX are repaired per round). */
  readonly segments: number;
  readonly pushed: number;
  readonly pulled: number;
}

export class AntiEntropy {
  private running = false;
  private timer: Timer | undefined;
  private repaired = 0;
  last: ExchangeReport | undefined;

  constructor(private readonly deps: AntiEntropyDeps) {}

  get repairedCount(): number {
    return this.repaired;
  }

  async round(): Promise<ExchangeReport | undefined> {
    if (this.running) return undefined;
    const peers = this.deps.peers();
    const peer = peers[Math.floor(this.deps.random() * peers.length)];
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
    if (repairing.length > 0) {
      // What the peer holds there, by fingerprint: a record of this node's that matches is not sent back.
      const theirs = new Map<string, number>();
      let after: string | undefined;
      for (let page = 0; page < PULL_PAGES_MAX; page++) {
        const { records, next } = await client.segmentRecords(peer, self, ranges, repairing, after);
        for (const record of records) theirs.set(record.key, recordFingerprint(record));
        const outcomes = await replicas.put(records);
        pulled += outcomes.filter((outcome) => outcome.applied).length;
        if (next === undefined) break;
        after = next;
      }
      let outgoing: StoredRecord[] = [];
      const send = async () => {
        for (const chunk of chunkRecords(outgoing)) {
          await client.putReplica(peer, chunk, this.deps.streamTimeoutMs);
          pushed += chunk.length;
        }
        outgoing = [];
      };
      for await (const record of walkRanges(store, rangesInSegments(ranges, repairing))) {
        if (theirs.get(record.key) === recordFingerprint(record)) continue;
        outgoing.push(record);
        if (outgoing.length >= RECORDS_PER_REQUEST_MAX) await send();
      }
      await send();
    }
    this.repaired += pulled;
    this.last = { peer, segments: segments.length, pushed, pulled };
    return this.last;
  }

  /**
   * The segments where this node's and `peer`'s digests of the ranges both replicate differ, found by
   * the digest tree; stops asking once it has `limit` of them. Identical replicas cost one exchange.
   */
  async differingSegments(peer: string, limit = Number.POSITIVE_INFINITY): Promise<{ ranges: RingRange[]; segments: number[] }> {
    const { self, store, replicas, client } = this.deps;
    const ranges = replicas.sharedRanges(peer);
    const mine = await sharedDigests(store, ranges);
    const groups = await client.differingGroups(peer, self, ranges, groupDigests(mine));
    const segments: number[] = [];
    for (let i = 0; i < groups.length && segments.length < limit; i += GROUPS_PER_REQUEST_MAX) {
      const chunk = groups.slice(i, i + GROUPS_PER_REQUEST_MAX);
      segments.push(...(await client.differingSegments(peer, self, ranges, chunk, groupSegments(mine, chunk))));
    }
    return { ranges, segments };
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.round(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
