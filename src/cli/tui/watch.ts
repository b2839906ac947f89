// Keeps a Snapshot of a cluster fresh: probes every known node each interval, adds the nodes they name, reads one ring.
import { ClientError, nodeClient, type RingBody } from "../../client/node-client.ts";
import { answeringNode, discovered, EMPTY_SNAPSHOT, mergeKnown, type NodeProbe, type Snapshot } from "./model.ts";

/** The view refreshes this often (SPEC §11). */
export const REFRESH_INTERVAL_MS = 2_000;
/** Bound on each probe: below the refresh interval, so a hung node shows as down instead of stalling the view. */
export const PROBE_TIMEOUT_MS = 1_500;

export type Probe = (url: string, timeoutMs: number) => Promise<NodeProbe>;
export type ReadRing = (url: string, timeoutMs: number) => Promise<RingBody>;

export interface WatchOptions {
  readonly seeds: readonly string[];
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly probe?: Probe;
  readonly readRing?: ReadRing;
  readonly now?: () => number;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Asks a node for its cluster state and gossip at once; the state's round trip is the latency shown. */
export const probeNode: Probe = async (url, timeoutMs) => {
  const client = nodeClient(url, timeoutMs);
  const started = performance.now();
  try {
    const [state, gossip] = await Promise.all([client.state().then((s) => ({ s, ms: performance.now() - started })), client.gossip()]);
    return { url, up: true, latencyMs: state.ms, state: state.s, gossip };
  } catch (error) {
    return { url, up: false, error: error instanceof ClientError ? error.message : describe(error) };
  }
};

export const readRing: ReadRing = async (url, timeoutMs) => (await nodeClient(url, timeoutMs).ring()).body;

export class ClusterWatch {
  private known: string[];
  private snapshot: Snapshot = EMPTY_SNAPSHOT;
  private readonly listeners = new Set<() => void>();
  private timer: Timer | undefined;
  private inFlight: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private preferred: string | undefined;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly probe: Probe;
  private readonly readRing: ReadRing;
  private readonly now: () => number;

  constructor(options: WatchOptions) {
    this.known = [...new Set(options.seeds)];
    this.intervalMs = options.intervalMs ?? REFRESH_INTERVAL_MS;
    this.timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
    this.probe = options.probe ?? probeNode;
    this.readRing = options.readRing ?? readRing;
    this.now = options.now ?? Date.now;
  }

  get current(): Snapshot {
    return this.snapshot;
  }

  /** For useSyncExternalStore: calls `listener` after every change of the snapshot. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The node whose ring the next refreshes read (the selected one), when it answers. */
  prefer(url: string | undefined): void {
    this.preferred = url;
  }

  start(): void {
    void this.refresh();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Refreshes now; when a refresh is running, one more follows it, so a request is never lost or doubled. */
  refresh(): Promise<void> {
    if (this.inFlight !== undefined) {
      this.again = true;
      return this.inFlight;
    }
    clearTimeout(this.timer);
    this.publish({ ...this.snapshot, refreshing: true });
    this.inFlight = this.round().finally(() => {
      this.inFlight = undefined;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        void this.refresh();
      } else {
        this.timer = setTimeout(() => void this.refresh(), this.intervalMs);
      }
    });
    return this.inFlight;
  }

  private async round(): Promise<void> {
    let probes = await this.probeAll(this.known);
    // Nodes named for the first time are probed in the same round, so a new member shows up at once.
    const before = this.known;
    this.known = mergeKnown(before, discovered(probes));
    const fresh = this.known.filter((url) => !before.includes(url));
    if (fresh.length > 0) probes = [...probes, ...(await this.probeAll(fresh))];
    const source = answeringNode(probes, this.preferred);
    const ring = source === undefined ? undefined : await this.readRing(source, this.timeoutMs).then(
      (body) => ({ source, body }),
      (error: unknown) => ({ source, error: describe(error) }),
    );
    if (this.stopped) return;
    const nodes = [...probes].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
    this.publish({ nodes, ring, refreshedAtMs: this.now(), refreshing: false });
  }

  private probeAll(urls: readonly string[]): Promise<NodeProbe[]> {
    return Promise.all(urls.map((url) => this.probe(url, this.timeoutMs).catch((error: unknown) => ({ url, up: false as const, error: describe(error) }))));
  }

  private publish(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    for (const listener of this.listeners) listener();
  }
}
