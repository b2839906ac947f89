// What the cluster routes report, built from the node's current ring; shapes match the original's clients.
import type { ClockStatus } from "../membership/clock-check.ts";
import type { MajorityView } from "../membership/member-table.ts";
import { pointRanges, ringShares, toDegrees } from "../ring/ranges.ts";
import type { BackgroundStatus } from "./background.ts";
import type { LimeNode } from "./node.ts";
import { quorumOf } from "./replication.ts";

export function clusterState(node: LimeNode, status: BackgroundStatus) {
  const members = node.members.list();
  const peers = node.ring.nodes.slice();
  return {
    nodeUrl: node.nodeUrl,
    peers,
    status: "active",
    totalNodes: peers.length,
    members: members.map((m) => ({
      url: m.nodeUrl,
      state: m.state,
      generation: m.generation,
      heartbeat: m.heartbeat,
      leaving: m.leaving,
      removed: m.removed === true,
      reachable: m.nodeUrl === node.nodeUrl || (m.removed !== true && !node.isDown(m.nodeUrl)),
    })),
    majority: node.members.majority(),
    replicationFactor: Math.min(node.replicationFactor, peers.length),
    replication: replicationView(node, status),
  };
}

/** Replication settings and progress: quorums, hint backlog, repairs and the streaming of rebalances. */
export function replicationView(node: LimeNode, status: BackgroundStatus) {
  const copies = Math.max(1, Math.min(node.replicationFactor, node.ring.nodes.length));
  const last = status.rebalance.last;
  return {
    factor: node.replicationFactor,
    writeQuorum: quorumOf(node.writeQuorum, copies),
    readQuorum: quorumOf(node.readQuorum, copies),
    hintBacklog: status.hintBacklog,
    hintsByTarget: status.hintsByTarget,
    hintsDelivered: status.hintsDelivered,
    readRepairs: status.readRepairs,
    antiEntropyRepairs: status.antiEntropyRepairs,
    rebalance: {
      running: status.rebalance.running,
      pending: status.rebalance.pending,
      passes: status.rebalance.passes,
      streamed: status.rebalance.streamed,
      dropped: status.rebalance.dropped,
      lastPass: last === undefined ? null : { ...last, failedTargets: [...last.failedTargets] },
    },
  };
}

export function ringView(node: LimeNode) {
  const ring = node.ring;
  const ranges = pointRanges(ring);
  const perNode = <T>(make: (url: string) => T) => Object.fromEntries(ring.nodes.map((url) => [url, make(url)]));
  const shares = ringShares(ranges);
  return {
    currentNode: node.nodeUrl,
    totalNodes: ring.nodes.length,
    allNodes: [...ring.nodes],
    virtualNodes: ring.pointHigh.length,
    virtualNodesPerNode: ring.vnodesPerNode,
    virtualNodeDistribution: perNode((url) => ranges.get(url)?.length ?? 0),
    shares: perNode((url) => shares.get(url) ?? 0),
    ranges: perNode((url) => (ranges.get(url) ?? []).map((r) => ({ start: r.start, end: r.end, hash: r.end, size: r.size }))),
    rangesDegrees: perNode((url) =>
      (ranges.get(url) ?? []).map((r) => {
        const startDegrees = toDegrees(r.start);
        const endDegrees = toDegrees(r.end);
        const sizeDegrees = Math.round((Number(r.size) / 2 ** 64) * 36000) / 100;
        return { startHash: r.start, endHash: r.end, hash: r.end, startDegrees, endDegrees, sizeDegrees, sizeHash: r.size };
      }),
    ),
  };
}

/** Below this share of active peers the cluster is critical rather than degraded. */
const HEALTHY_QUORUM = 0.5;

/** Gossip as this node sees it; a node that knows no other answers with the original's standalone shape. */
export function gossipView(node: LimeNode, nowMs: number) {
  const own = node.members.own;
  const peers = node.members.list().filter((m) => m.nodeUrl !== node.nodeUrl);
  if (peers.length === 0) {
    return { node_url: node.nodeUrl, node_heartbeat: own.heartbeat, status: "standalone" as const, cluster_health: "N/A", total_peers: 0 };
  }
  const count = (state: string) => peers.filter((m) => m.state === state).length;
  const lags = peers.map((m) => Math.round(node.members.silenceOf(m)));
  const active = count("active");
  const convergence = active / peers.length;
  return {
    node_url: node.nodeUrl,
    node_heartbeat: own.heartbeat,
    total_peers: peers.length,
    active_peers: active,
    stale_peers: count("stale"),
    dead_peers: count("dead"),
    average_lag: Math.round(lags.reduce((sum, lag) => sum + lag, 0) / lags.length),
    max_lag: Math.max(...lags),
    convergence_rate: Math.round(convergence * 1000) / 1000,
    cluster_health: convergence === 1 ? "healthy" : convergence > HEALTHY_QUORUM ? "degraded" : "critical",
    peer_details: peers.map((m, i) => ({ url: m.nodeUrl, heartbeat: m.heartbeat, generation: m.generation, lag: lags[i] ?? 0, status: m.state })),
    timestamp: new Date(nowMs).toISOString(),
  };
}

export interface HealthBody {
  nodeUrl: string;
  service: "limedb-node";
  status: "healthy" | "unhealthy";
  storage: { type: string; keys: number; error?: string };
  replication: { factor: number; hintBacklog: number; rebalancing: boolean };
  /**
   * This node's clock against its live peers' (from gossip); informative: a node off by more than the skew
   * still serves. Optional for clients, which may ask nodes of a version before it.
   */
  clock?: { status: ClockStatus; offsetMs: number; peers: number };
  /** Whether this node sees a majority of its cluster's members; optional for clients of older nodes. */
  cluster?: MajorityView;
  timestamp: string;
  version: string;
}

export async function healthView(node: LimeNode, version: string, status: BackgroundStatus): Promise<{ healthy: boolean; body: HealthBody }> {
  let keys = 0;
  let healthy = true;
  let problem: string | undefined;
  try {
    await node.store.check();
    keys = await node.store.count();
  } catch (error) {
    healthy = false;
    problem = error instanceof Error ? error.message : String(error);
  }
  return {
    healthy,
    body: {
      nodeUrl: node.nodeUrl,
      service: "limedb-node",
      status: healthy ? "healthy" : "unhealthy",
      storage: { type: node.store.kind, keys, ...(problem === undefined ? {} : { error: problem }) },
      replication: { factor: node.replicationFactor, hintBacklog: status.hintBacklog, rebalancing: status.rebalance.running },
      clock: { ...node.members.clockReading() },
      cluster: node.members.majority(),
      timestamp: new Date().toISOString(),
      version,
    },
  };
}
