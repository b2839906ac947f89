// The figures one node exposes: requests and store operations as they happen, cluster state read at scrape time.
import { Counter, gauge, Histogram, type MetricFamily } from "./registry.ts";
import { renderText } from "./text-format.ts";

/** The route label of a request no route matched: the raw path could carry a key, so it is never used. */
export const UNMATCHED_ROUTE = "unmatched";

/** Methods kept as they are; anything else a client sends is counted as OTHER, so it cannot add series. */
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

/** Cluster state as it stands when scraped; owned elsewhere, only read here. */
export interface ClusterFigures {
  readonly membersByState: Readonly<Record<string, number>>;
  readonly hintBacklog: number;
  readonly gossipRounds: number;
  readonly rebalanceStreamed: number;
  readonly readRepairs: number;
  /** Whether this node sees a majority of its cluster's members (1) or not (0): the minority side of a partition. */
  readonly majority: boolean;
  /** Peers this node's calls lately got no answer from, whatever gossip says (see node/reachability.ts). */
  readonly unreachablePeers: number;
}

/** What the figures need of the cluster's shape beyond the member list; main passes the member table's view. */
export interface ReachFigures {
  readonly majority: boolean;
  readonly unreachablePeers: number;
}

/**
 * Counts members by state, naming every state even at zero so a dashboard sees a series vanish to 0, not to
 * nothing; a removed member counts as "removed", whatever gossip last said of it.
 */
export function countByState(members: readonly { readonly state: string; readonly removed?: boolean }[]): Record<string, number> {
  const counts: Record<string, number> = { active: 0, stale: 0, dead: 0, removed: 0 };
  for (const { state, removed } of members) {
    const key = removed === true ? "removed" : state;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The parts of the background status the figures need; structural, so metrics imports nothing of node. */
interface StatusFigures {
  readonly hintBacklog: number;
  readonly readRepairs: number;
  readonly rebalance: { readonly streamed: number };
}

export function clusterFigures(
  members: readonly { readonly state: string; readonly removed?: boolean }[],
  status: StatusFigures,
  gossipRounds: number,
  reach: ReachFigures = { majority: true, unreachablePeers: 0 },
): ClusterFigures {
  return {
    membersByState: countByState(members),
    hintBacklog: status.hintBacklog,
    gossipRounds,
    rebalanceStreamed: status.rebalance.streamed,
    readRepairs: status.readRepairs,
    majority: reach.majority,
    unreachablePeers: reach.unreachablePeers,
  };
}

/** Label sets whose series the hot paths keep bound; SERIES_MAX bounds each metric in any case. */
const BOUND_SERIES_MAX = 4096;
/** Statuses one request recorder keeps bound (a route answers a handful: 200, 404, 400, 503, 504...). */
const REQUEST_STATUSES_BOUND_MAX = 16;

export class NodeMetrics {
  readonly requests = new Counter("limedb_http_requests_total", "HTTP requests answered, by route template, method and status.", ["route", "method", "status"]);
  readonly requestDuration = new Histogram("limedb_http_request_duration_seconds", "Time to answer an HTTP request in seconds, by route template, method and status.", ["route", "method", "status"]);
  readonly storeDuration = new Histogram("limedb_store_operation_duration_seconds", "Time a store operation took in seconds, by backend and operation.", ["backend", "operation"]);
  readonly storeFailures = new Counter("limedb_store_operation_failures_total", "Store operations that threw, by backend and operation.", ["backend", "operation"]);
  readonly peerCalls = new Counter("limedb_peer_calls_total", "Calls this node made to peers (replica reads and writes, hints, streams, anti-entropy, gossip, probes), by operation.", ["op"]);
  readonly peerCallFailures = new Counter("limedb_peer_call_failures_total", "Calls to peers that failed, by operation and reason: timeout, unreachable, or the peer's own failure (its code).", ["op", "reason"]);
  readonly peerCallsServed = new Counter("limedb_peer_calls_served_total", "Calls peers made to this node on the bus, by operation and outcome (ok or the error's code); each item of a merged call (putEach, versionEach) also counts as a call of it alone (put, version) with its own outcome.", ["op", "outcome"]);
  readonly clockRefused = new Counter("limedb_clock_refused_total", "Versions, gossip generations and heartbeats refused because their wall time lay beyond now + MAX_CLOCK_SKEW_MS, by kind.", ["kind"]);
  readonly commitWaits = new Counter("limedb_store_commit_waits_total", "Store commits (sqlite) that waited for the write-ahead log to start over: writes paused while one checkpoint copied the rest of the log.", []);
  readonly commitWaitSeconds = new Counter("limedb_store_commit_wait_seconds_total", "Seconds store commits (sqlite) waited for the write-ahead log to start over.", []);
  readonly hintsDropped = new Counter("limedb_hints_dropped_total", "Hints dropped undelivered, by reason: bytes_cap or rows_cap (the backlog was full), forgotten (the cluster forgot the target), refused (the replica refused the record).", ["reason"]);
  readonly peerCallDuration = new Histogram("limedb_peer_call_duration_seconds", "Time until a peer's answer in seconds, by operation.", ["op"]);
  /** Bound series of the hot paths by a key of their label values: one map lookup per request instead of a key built twice. */
  private readonly bound = new Map<string, (durationMs: number, times?: number) => void>();
  /** Bound counters of served peer calls by operation, then outcome; servedBound counts them, up to BOUND_SERIES_MAX. */
  private readonly servedCounts = new Map<string, Map<string, (by?: number) => void>>();
  private servedBound = 0;

  recordRequest(route: string | undefined, method: string, status: number, durationMs: number): void {
    this.requestSeries(route, method, status)(durationMs);
  }

  /**
   * recordRequest for one route and method, bound once: a hot path's recorder builds no series key per request,
   * only a lookup by status (up to REQUEST_STATUSES_BOUND_MAX statuses are kept bound; others go the usual way).
   */
  requestRecorder(route: string, method: string): (status: number, durationMs: number) => void {
    const byStatus = new Map<number, (durationMs: number) => void>();
    return (status, durationMs) => {
      let record = byStatus.get(status);
      if (record === undefined) {
        record = this.requestSeries(route, method, status);
        if (byStatus.size < REQUEST_STATUSES_BOUND_MAX) byStatus.set(status, record);
      }
      record(durationMs);
    };
  }

  private requestSeries(route: string | undefined, method: string, status: number): (durationMs: number) => void {
    return this.boundSeries(`r\n${route ?? ""}\n${method}\n${status}`, () => {
      // Status is a label of the latency too: a fast 404 and a slow 504 on one route are different stories.
      const labels = { route: route ?? UNMATCHED_ROUTE, method: KNOWN_METHODS.has(method) ? method : "OTHER", status: String(status) };
      return [this.requests.bind(labels), this.requestDuration.bind(labels)];
    });
  }

  recordStoreOperation(backend: string, operation: string, durationMs: number, failed: boolean): void {
    this.storeRecorder(backend, operation)(durationMs, failed);
  }

  /**
   * recordStoreOperation for one backend and operation, bound once: every store call passes here (building and
   * looking up a series key per call was 17 % of a memory node's JavaScript time under wrk GET, --cpu-prof).
   */
  storeRecorder(backend: string, operation: string): (durationMs: number, failed: boolean) => void {
    const observe = this.boundSeries(`s\n${backend}\n${operation}`, () => [() => undefined, this.storeDuration.bind({ backend, operation })]);
    return (durationMs, failed) => {
      observe(durationMs);
      if (failed) this.storeFailures.inc({ backend, operation });
    };
  }

  /** `failure` is undefined for a call the peer answered as it should; `calls` that took `durationMs` each. */
  recordPeerCall(op: string, durationMs: number, failure: string | undefined, calls = 1): void {
    const record = this.boundSeries(`p\n${op}`, () => [this.peerCalls.bind({ op }), this.peerCallDuration.bind({ op })]);
    record(durationMs, calls);
    if (failure !== undefined) this.peerCallFailures.inc({ op, reason: failure }, calls);
  }

  /** Counts `calls` calls a peer made here, by operation and outcome (ok, or the error's code). */
  recordServed(op: string, outcome: string, calls = 1): void {
    // By operation, then outcome: two lookups of names the code holds, no key built per call (every bus call passes here).
    let byOutcome = this.servedCounts.get(op);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      if (this.servedBound < BOUND_SERIES_MAX) this.servedCounts.set(op, byOutcome);
    }
    let count = byOutcome.get(outcome);
    if (count === undefined) {
      count = this.peerCallsServed.bind({ op, outcome });
      if (this.servedBound < BOUND_SERIES_MAX) {
        byOutcome.set(outcome, count);
        this.servedBound++;
      }
    }
    count(calls);
  }

  /** What records an event (count and duration in ms; `times` over, for the items of a merged call) in the series bound under `key`. */
  private boundSeries(key: string, bind: () => [(by?: number) => void, (seconds: number, times?: number) => void]): (durationMs: number, times?: number) => void {
    let record = this.bound.get(key);
    if (record === undefined) {
      const [count, observe] = bind();
      record = (ms: number, times = 1) => {
        count(times);
        observe(ms / 1000, times);
      };
      // Past the bound (label values no route should make), events are recorded the slow way, never lost.
      if (this.bound.size < BOUND_SERIES_MAX) this.bound.set(key, record);
    }
    return record;
  }

  /** Every figure as it stands: what /metrics renders and what the OTLP exporter sends. */
  families(figures: ClusterFigures): MetricFamily[] {
    const recorded = [this.requests, this.requestDuration, this.storeDuration, this.storeFailures, this.peerCalls, this.peerCallFailures, this.peerCallDuration, this.peerCallsServed, this.clockRefused, this.commitWaits, this.commitWaitSeconds, this.hintsDropped];
    return [...recorded.map((metric) => metric.collect()), ...clusterFamilies(figures)];
  }

  render(figures: ClusterFigures): string {
    return renderText(this.families(figures));
  }
}

/**
 * Gossip rounds, streamed keys and repairs only ever grow, so they are counters even though they
 * are read from their owners at scrape time rather than kept here.
 */
export function clusterFamilies(figures: ClusterFigures): MetricFamily[] {
  const counter = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: "counter", samples: [{ name, labels: {}, value }] });
  return [
    gauge("limedb_members", "Members this node knows, by state.", Object.entries(figures.membersByState).map(([state, value]) => ({ labels: { state }, value }))),
    gauge("limedb_hint_backlog", "Writes waiting here for replicas that were down.", [{ value: figures.hintBacklog }]),
    gauge("limedb_cluster_majority", "1 while this node sees a majority of its cluster's members, 0 on the minority side of a partition.", [{ value: figures.majority ? 1 : 0 }]),
    gauge("limedb_peers_unreachable", "Peers this node's calls lately got no answer from; requests skip them until a probe does.", [{ value: figures.unreachablePeers }]),
    counter("limedb_gossip_rounds_total", "Gossip rounds this node has started.", figures.gossipRounds),
    counter("limedb_rebalance_streamed_total", "Keys streamed to new replicas by rebalancing.", figures.rebalanceStreamed),
    counter("limedb_read_repairs_total", "Stale replicas repaired by reads.", figures.readRepairs),
  ];
}
