// limedb/client: the typed TypeScript client of a LimeDB cluster. It is given several nodes and fails over
// between them: a call that cannot reach a node, times out, or is answered 503 (the node cannot serve right
// now) goes to the next; any other answer, success or failure, is the cluster's and is returned or thrown as
// it is. The node that last answered is asked first next time. Failures are ClientErrors carrying the node's
// own error code. The CLI and its terminal client use the same per-node calls (node-client.ts).
import { ClientError, nodeClient, parseNodeUrl, REQUEST_TIMEOUT_MS_DEFAULT, type GetBody, type GossipBody, type HealthBody, type MgetBody, type MsetBody, type MsetEntry, type NodeClient, type ReplicasBody, type RingBody, type ScanBody, type StateBody } from "./node-client.ts";

export { ClientError, REQUEST_TIMEOUT_MS_DEFAULT };
export type { ClientErrorKind } from "./node-client.ts";
export type { GetBody, GossipBody, HealthBody, MgetBody, MsetBody, MsetEntry, ReplicasBody, RingBody, ScanBody, StateBody };
/** One key of a scan: its value, version and expiry. */
export type ScanEntry = ScanBody["keys"][number];

export interface ClientOptions {
  /** URLs of nodes of the cluster (any of them: every node coordinates every key), tried in this order. */
  readonly nodes: readonly string[];
  /** Bound on one call to one node, in ms; a call that fails over may take this long per node tried. */
  readonly timeoutMs?: number;
  /** The fetch to use (tests, proxies); the global one by default. */
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

export interface ScanOptions {
  /** Only keys starting with this. */
  readonly prefix?: string;
  /** Keys asked for per page (1–1,000; 100 by default). */
  readonly pageSize?: number;
}

export interface SetOptions {
  /** Expire the key after this many milliseconds. */
  readonly ttlMs?: number;
}

/** Whether a failure is the node's, not the cluster's: another node may well serve the call. */
function failsOver(error: unknown): error is ClientError {
  if (!(error instanceof ClientError)) return false;
  return error.kind === "unreachable" || error.kind === "timeout" || (error.kind === "unavailable" && error.status === 503);
}

export class LimeClient {
  private readonly clients: readonly NodeClient[];
  /** The node asked first: the last one that answered. */
  private preferred = 0;

  constructor(options: ClientOptions) {
    if (options.nodes.length === 0) throw new Error("a LimeDB client needs at least one node URL");
    const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
    this.clients = options.nodes.map((url) => nodeClient(parseNodeUrl(url), timeoutMs, options.fetch));
  }

  /** The node the next call goes to first. */
  get nodeUrl(): string {
    return this.clients[this.preferred]!.nodeUrl;
  }

  /** The key's value, or undefined when it does not exist (or expired). */
  async get(key: string): Promise<string | undefined> {
    return (await this.getEntry(key))?.value;
  }

  /** The key's value and the node that coordinated the read, or undefined when it does not exist. */
  getEntry(key: string): Promise<GetBody | undefined> {
    return this.call((node) => node.get(key));
  }

  /** Resolves once the write quorum acknowledged it. */
  set(key: string, value: string, options: SetOptions = {}): Promise<void> {
    return this.call((node) => node.set(key, value, options.ttlMs));
  }

  /** Whether the key held a live value. */
  del(key: string): Promise<boolean> {
    return this.call((node) => node.del(key));
  }

  /** Up to 1,000 keys in one call: one result per key, in order: found with its value, not found, or that key's failure. */
  async mget(keys: readonly string[]): Promise<MgetBody["results"]> {
    return (await this.call((node) => node.mget(keys))).results;
  }

  /** Up to 1,000 writes in one call, each a SET of its own: one result per entry, and how many were written. */
  mset(entries: readonly MsetEntry[]): Promise<MsetBody> {
    return this.call((node) => node.mset(entries));
  }

  /**
   * Every live key of the cluster once, in ring order, a page at a time as the loop asks for more. A page
   * that fails on one node is asked of the next from the same cursor (any node continues any cursor).
   */
  async *scan(options: ScanOptions = {}): AsyncGenerator<ScanEntry> {
    let cursor: string | null = null;
    do {
      const from: string | null = cursor;
      const page: ScanBody = await this.call((node) => node.scan(from, options.pageSize ?? 100, options.prefix ?? ""));
      yield* page.keys;
      cursor = page.next;
    } while (cursor !== null);
  }

  /** The cluster as the node asked sees it: members, replication, rebalancing. */
  state(): Promise<StateBody> {
    return this.call((node) => node.state());
  }

  ring(): Promise<RingBody> {
    return this.call(async (node) => (await node.ring()).body);
  }

  gossip(): Promise<GossipBody> {
    return this.call((node) => node.gossip());
  }

  health(): Promise<HealthBody> {
    return this.call((node) => node.health());
  }

  /** The key's replicas and the version each holds. */
  replicas(key: string): Promise<ReplicasBody> {
    return this.call((node) => node.replicas(key));
  }

  /** Runs the call on the preferred node, then on each other in turn while the failure is the node's own. */
  private async call<T>(run: (node: NodeClient) => Promise<T>): Promise<T> {
    const failures: ClientError[] = [];
    for (let attempt = 0; attempt < this.clients.length; attempt++) {
      const index = (this.preferred + attempt) % this.clients.length;
      try {
        const result = await run(this.clients[index]!);
        this.preferred = index;
        return result;
      } catch (error) {
        if (!failsOver(error)) throw error;
        failures.push(error);
      }
    }
    const last = failures.at(-1)!;
    if (failures.length === 1) throw last;
    throw new ClientError(last.kind, `no node could serve the call: ${failures.map((failure) => failure.message).join("; ")}`, last.status, last.code);
  }
}

/** A client of the cluster these nodes belong to; see LimeClient. */
export function createClient(options: ClientOptions): LimeClient {
  return new LimeClient(options);
}
