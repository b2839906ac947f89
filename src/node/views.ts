// What the cluster routes report, built from the node's current ring; shapes match the original's clients.
import { pointRanges, ringShares, toDegrees } from "../ring/ranges.ts";
import type { LimeNode } from "./node.ts";

export function clusterState(node: LimeNode) {
  const peers = [...node.ring.nodes];
  return {
    nodeUrl: node.nodeUrl,
    peers,
    status: "active",
    totalNodes: peers.length,
    members: peers.map((url) => ({ url, state: "active" as const })),
    replicationFactor: Math.min(node.replicationFactor, peers.length),
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

/** A node alone has nobody to gossip with; the original answered with this standalone shape. */
export function gossipView(node: LimeNode) {
  return {
    node_url: node.nodeUrl,
    node_heartbeat: 0,
    status: "standalone",
    cluster_health: "N/A",
    total_peers: 0,
  };
}

export interface HealthBody {
  nodeUrl: string;
  service: "limedb-node";
  status: "healthy" | "unhealthy";
  storage: { type: string; keys: number; error?: string };
  timestamp: string;
  version: string;
}

export async function healthView(node: LimeNode, version: string): Promise<{ healthy: boolean; body: HealthBody }> {
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
      timestamp: new Date().toISOString(),
      version,
    },
  };
}
