// Runs anti-entropy rounds: with one random live peer, compare bucket digests and exchange the differing buckets.
import type { Backend } from "../store/backend.ts";
import type { StoredRecord } from "../store/record.ts";
import { bucketDigests, recordsInBuckets } from "./anti-entropy.ts";
import { chunkRecords } from "./record-chunks.ts";
import type { ReplicaService } from "./replica-service.ts";

/** Pages pulled from a peer in one round: bounds a round's work; the rest follows in later rounds. */
export const PULL_PAGES_MAX = 64;

export interface AntiEntropyClient {
  differingBuckets(target: string, from: string, digests: readonly number[]): Promise<number[]>;
  bucketRecords(target: string, from: string, buckets: readonly number[], after: string | undefined): Promise<{ records: StoredRecord[]; next: string | undefined }>;
  putReplica(target: string, records: readonly StoredRecord[], timeoutMs?: number): Promise<unknown>;
}

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
  readonly buckets: number;
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

  /** Compares digests with one peer and makes both sides hold the newest of every differing record. */
  async exchange(peer: string): Promise<ExchangeReport> {
    const { self, store, replicas, client } = this.deps;
    const shares = replicas.sharesWith(peer);
    const buckets = await client.differingBuckets(peer, self, await bucketDigests(store, shares));
    let pushed = 0;
    let pulled = 0;
    if (buckets.length > 0) {
      for (const chunk of chunkRecords(await recordsInBuckets(store, new Set(buckets), shares))) {
        await client.putReplica(peer, chunk, this.deps.streamTimeoutMs);
        pushed += chunk.length;
      }
      let after: string | undefined;
      for (let page = 0; page < PULL_PAGES_MAX; page++) {
        const { records, next } = await client.bucketRecords(peer, self, buckets, after);
        const outcomes = await replicas.put(records);
        pulled += outcomes.filter((outcome) => outcome.applied).length;
        if (next === undefined) break;
        after = next;
      }
    }
    this.repaired += pulled;
    this.last = { peer, buckets: buckets.length, pushed, pulled };
    return this.last;
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
