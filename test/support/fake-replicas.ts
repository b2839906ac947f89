// In-process replicas for replication tests: one MemoryBackend per node behind ReplicaPeers, each one up, down or slow.
import { NodeError, type NodeErrorCode } from "../../src/node/errors.ts";
import type { ReplicaPeers } from "../../src/node/replication.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import type { PutOutcome, StoredRecord, Version } from "../../src/store/record.ts";

/** Up answers at once; down fails as an unreachable peer does; slow holds each call until the test releases it. */
export type ReplicaMode = "up" | "down" | "slow";

export interface ReplicaCall {
  readonly op: "put" | "get" | "version";
  readonly target: string;
  readonly key: string;
}

export class FakeReplicas implements ReplicaPeers {
  readonly calls: ReplicaCall[] = [];
  private readonly stores = new Map<string, MemoryBackend>();
  private readonly modes = new Map<string, ReplicaMode>();
  private waiting: (() => void)[] = [];
  private readonly refusingPuts = new Map<string, NodeErrorCode>();

  constructor(urls: readonly string[], clock: () => number, valueBytesMax = 1024 * 1024) {
    for (const url of urls) this.stores.set(url, new MemoryBackend({ valueBytesMax, clock }));
  }

  /** The replica's own store, to seed it (a stale or newer copy) or to look at what it holds. */
  store(url: string): MemoryBackend {
    const store = this.stores.get(url);
    if (store === undefined) throw new Error(`no fake replica ${url}`);
    return store;
  }

  setMode(url: string, mode: ReplicaMode): void {
    this.store(url);
    this.modes.set(url, mode);
  }

  /**
   * Puts to `url` fail with `code` (as an unreachable peer's do, by default; clock_skew as a peer's bound refuses
   * a version from the future), while its gets are answered; the function returned undoes it.
   */
  failPutsOf(url: string, code: NodeErrorCode = "unavailable"): () => void {
    this.store(url);
    this.refusingPuts.set(url, code);
    return () => this.refusingPuts.delete(url);
  }

  /** Calls a slow replica holds right now. */
  get held(): number {
    return this.waiting.length;
  }

  /** Lets every held call go on; each then acts by its replica's mode at that moment (down: it fails, as a timeout would). */
  release(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const go of waiting) go();
  }

  async putReplica(target: string, records: readonly StoredRecord[]): Promise<PutOutcome[]> {
    for (const record of records) this.calls.push({ op: "put", target, key: record.key });
    const store = await this.reach(target);
    const refusal = this.refusingPuts.get(target);
    if (refusal !== undefined) throw new NodeError(refusal, `replica ${target} refused the put (${refusal})`);
    return Promise.all(records.map((record) => store.put(record)));
  }

  async getReplica(target: string, key: string): Promise<StoredRecord | undefined> {
    this.calls.push({ op: "get", target, key });
    const store = await this.reach(target);
    return store.get(key);
  }

  async versionOf(target: string, key: string): Promise<Version | undefined> {
    this.calls.push({ op: "version", target, key });
    const store = await this.reach(target);
    return (await store.get(key))?.version;
  }

  private async reach(target: string): Promise<MemoryBackend> {
    const store = this.store(target);
    if (this.modes.get(target) === "slow") await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.modes.get(target) === "down") throw new NodeError("unavailable", `replica ${target} is unreachable`);
    return store;
  }
}
