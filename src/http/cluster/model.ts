// Schemas of the cluster routes, for validation of what we send and for Swagger.
import { t } from "elysia";

/** Whether a node sees a majority of its cluster; shared by the state and health answers. */
export const majoritySchema = t.Object(
  {
    members: t.Integer({ description: "Members that own ranges, dead ones included, and this node" }),
    reachable: t.Integer({ description: "Of those, the ones this node does not hold dead, itself included" }),
    majority: t.Boolean({ description: "reachable > members / 2; a node without it is on the minority side of a partition" }),
  },
  { description: "Whether this node sees a majority of its cluster. Without one it still coordinates: each key's own quorum decides" },
);

export const stateResponse = t.Object({
  nodeUrl: t.String(),
  peers: t.Array(t.String(), { description: "Members in the ring (dead ones too, until they are removed), this node included, sorted" }),
  status: t.String(),
  totalNodes: t.Integer(),
  members: t.Array(
    t.Object({
      url: t.String(),
      state: t.String({ description: "active, stale or dead" }),
      generation: t.Integer({ description: "Raised on every restart of the member" }),
      heartbeat: t.Integer(),
      leaving: t.Boolean(),
      // Optional for clients of older nodes; this node always sends them.
      removed: t.Optional(t.Boolean({ description: "Removed from the cluster (limedb remove, or dead for REMOVE_DEAD_AFTER_MS): no longer in the ring" })),
      reachable: t.Optional(t.Boolean({ description: "Whether requests go to it: not dead, not removed, and answering this node's calls" })),
    }),
  ),
  majority: t.Optional(majoritySchema),
  replicationFactor: t.Integer({ description: "Copies of each key, capped at the cluster size" }),
  replication: t.Object({
    factor: t.Integer({ description: "REPLICATION_FACTOR as configured" }),
    writeQuorum: t.Integer({ description: "Acknowledgements a write needs at the current cluster size" }),
    readQuorum: t.Integer({ description: "Answers a read needs at the current cluster size" }),
    hintBacklog: t.Integer(),
    hintsByTarget: t.Record(t.String(), t.Integer()),
    hintsDelivered: t.Integer(),
    readRepairs: t.Integer(),
    antiEntropyRepairs: t.Integer(),
    rebalance: t.Object({
      running: t.Boolean(),
      pending: t.Boolean({ description: "True until the data is placed for the current ring, retries included" }),
      passes: t.Integer(),
      streamed: t.Integer({ description: "Records streamed to new replicas since start" }),
      dropped: t.Integer({ description: "Records dropped here after their new replicas confirmed them" }),
      lastPass: t.Union([
        t.Object({ scanned: t.Integer(), streamed: t.Integer(), dropped: t.Integer(), failedTargets: t.Array(t.String()), durationMs: t.Integer() }),
        t.Null(),
      ]),
    }),
  }),
});

const exact = (description: string) => t.Integer({ description: `${description}; an exact 64-bit integer written as digits` });

export const ringResponse = t.Object({
  currentNode: t.String(),
  totalNodes: t.Integer(),
  allNodes: t.Array(t.String()),
  virtualNodes: t.Integer({ description: "Ring points in all" }),
  virtualNodesPerNode: t.Integer(),
  virtualNodeDistribution: t.Record(t.String(), t.Integer()),
  shares: t.Record(t.String(), t.Number({ description: "Fraction of the hash space, 0 to 1" })),
  ranges: t.Record(t.String(), t.Array(t.Object({ start: exact("First hash"), end: exact("Last hash"), hash: exact("The point"), size: exact("Hashes in the range") }))),
  rangesDegrees: t.Record(
    t.String(),
    t.Array(
      t.Object({
        startHash: exact("First hash"),
        endHash: exact("Last hash"),
        hash: exact("The point"),
        startDegrees: t.Number(),
        endDegrees: t.Number(),
        sizeDegrees: t.Number(),
        sizeHash: exact("Hashes in the range"),
      }),
    ),
  ),
});

const peerDetail = t.Object({
  url: t.String(),
  heartbeat: t.Integer(),
  generation: t.Integer(),
  lag: t.Integer({ description: "Milliseconds since this node last saw the peer's heartbeat advance" }),
  status: t.String({ description: "active, stale or dead" }),
});

export const gossipResponse = t.Object({
  node_url: t.String(),
  node_heartbeat: t.Integer(),
  status: t.Optional(t.Literal("standalone")),
  cluster_health: t.String({ description: "healthy, degraded, critical, or N/A when standalone" }),
  total_peers: t.Integer(),
  active_peers: t.Optional(t.Integer()),
  stale_peers: t.Optional(t.Integer()),
  dead_peers: t.Optional(t.Integer()),
  average_lag: t.Optional(t.Integer({ description: "Mean of the peers' lag, in milliseconds" })),
  max_lag: t.Optional(t.Integer()),
  convergence_rate: t.Optional(t.Number({ description: "Share of peers that are active, 0 to 1" })),
  peer_details: t.Optional(t.Array(peerDetail)),
  timestamp: t.Optional(t.String()),
});
