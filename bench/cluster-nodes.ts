// Local LimeDB clusters for the cluster bench: node command lines, starting N nodes, and polling their cluster state.
import { freePort, REQUEST_TIMEOUT_MS, startServer, type ServerProcess } from "./server-process.ts";

export interface NodeSpec {
  /** A number for a real node; a placeholder such as "$PORT_A" for the command shown in the README. */
  readonly port: number | string;
  readonly peers: readonly string[];
  readonly dataDir: string;
  readonly backend: "memory" | "sqlite";
  /** Gossip timing; left out, the node's defaults (1000, 3000, 5000 ms) apply. */
  readonly gossip?: GossipTiming;
  /** Copies and quorums; left out, the node's defaults (3 copies, majority quorums) apply. */
  readonly replication?: ReplicationSettings;
}

export interface GossipTiming {
  readonly intervalMs: number;
  readonly staleAfterMs: number;
  readonly deadAfterMs: number;
}

/** -node.replication-factor, -node.write-quorum and -node.read-quorum; a quorum of 0 means a majority. */
export interface ReplicationSettings {
  readonly factor: number;
  readonly writeQuorum: number;
  readonly readQuorum: number;
}

/**
 * One copy of each key: a key has one owner, and a request is either answered by the node that gets it
 * or sent one hop to the owner. The forwarding bench measures that hop; the replication part compares
 * three copies against it.
 */
export const ONE_COPY: ReplicationSettings = { factor: 1, writeQuorum: 1, readQuorum: 1 };
/** Three copies, a write acknowledged by two and a read answered by two: the default's majority, spelled out. */
export const THREE_COPIES: ReplicationSettings = { factor: 3, writeQuorum: 2, readQuorum: 2 };

export function nodeUrlOf(port: number | string): string {
  return `http://127.0.0.1:${port}`;
}

export function nodeCommand(spec: NodeSpec): string[] {
  const { gossip, replication } = spec;
  return [
    "bun", "src/main.ts",
    "-server.port", String(spec.port),
    "-server.host", "127.0.0.1",
    "-node.url", nodeUrlOf(spec.port),
    ...(spec.peers.length > 0 ? ["-node.peers", spec.peers.join(",")] : []),
    "-data.dir", spec.dataDir,
    "-store.backend", spec.backend,
    ...(gossip === undefined
      ? []
      : ["-gossip.interval-ms", String(gossip.intervalMs), "-gossip.stale-after-ms", String(gossip.staleAfterMs), "-gossip.dead-after-ms", String(gossip.deadAfterMs)]),
    ...(replication === undefined
      ? []
      : ["-node.replication-factor", String(replication.factor), "-node.write-quorum", String(replication.writeQuorum), "-node.read-quorum", String(replication.readQuorum)]),
    "-log.level", "warn",
  ];
}

/** The rebalancer's progress as GET /api/v1/cluster/state reports it under replication.rebalance. */
export interface RebalanceState {
  readonly running: boolean;
  readonly passes: number;
  readonly streamed: number;
  readonly lastPass: { readonly streamed: number; readonly failedTargets: readonly string[]; readonly durationMs: number } | null;
}

/** What the bench reads from GET /api/v1/cluster/state. */
export interface ClusterState {
  readonly nodeUrl: string;
  /** The members in this node's ring: everyone it does not hold dead. */
  readonly peers: readonly string[];
  readonly members: readonly { readonly url: string; readonly state: string }[];
  readonly replication: {
    readonly factor: number;
    readonly writeQuorum: number;
    readonly readQuorum: number;
    readonly hintBacklog: number;
    readonly rebalance: RebalanceState;
  };
}

function isClusterState(body: unknown): body is ClusterState {
  const b = body as { nodeUrl?: unknown; peers?: unknown; members?: unknown; replication?: { rebalance?: unknown } | null } | null;
  return (
    typeof b === "object" &&
    b !== null &&
    typeof b.nodeUrl === "string" &&
    Array.isArray(b.peers) &&
    Array.isArray(b.members) &&
    typeof b.replication === "object" &&
    b.replication !== null &&
    typeof b.replication.rebalance === "object" &&
    b.replication.rebalance !== null
  );
}

/** A node's view of the cluster, or undefined when it does not answer (yet, or any more) or answers garbage. */
export async function clusterState(url: string): Promise<ClusterState | undefined> {
  try {
    const response = await fetch(`${url}/api/v1/cluster/state`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body: unknown = await response.json();
    return response.ok && isClusterState(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Polls every node every `pollMs` until `holds` is true of its state, and returns when each one first
 * was (performance.now() at the answer that showed it). Nodes still false at `boundMs` are missing
 * from the map; the caller decides whether that is a failure.
 */
export async function pollUntilAll(urls: readonly string[], holds: (state: ClusterState) => boolean, pollMs: number, boundMs: number): Promise<Map<string, number>> {
  const since = new Map<string, number>();
  const deadline = performance.now() + boundMs;
  while (since.size < urls.length && performance.now() < deadline) {
    const tickMs = performance.now();
    await Promise.all(
      urls
        .filter((url) => !since.has(url))
        .map(async (url) => {
          const state = await clusterState(url);
          if (state !== undefined && holds(state)) since.set(url, performance.now());
        }),
    );
    const restMs = pollMs - (performance.now() - tickMs);
    if (restMs > 0) await Bun.sleep(restMs);
  }
  return since;
}

/**
 * Removes `member`, which `url` holds dead, from the cluster (POST /api/v1/admin/remove; bench clusters run without
 * CLUSTER_SECRET). A dead member keeps its ranges until then. Throws when the node refuses.
 */
export async function removeMember(url: string, member: string): Promise<void> {
  const response = await fetch(`${url}/api/v1/admin/remove`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nodeUrl: member }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`bench: ${url} refused to remove ${member}: ${response.status} ${await response.text()}`);
}

/** Members every node must list before a cluster counts as formed. */
const FORM_TIMEOUT_MS = 20_000;
const FORM_POLL_MS = 50;

export interface Cluster {
  readonly urls: readonly string[];
  readonly servers: readonly ServerProcess[];
  /** The command of each node with ports, peers and the data dir as placeholders, for the README. */
  readonly shown: readonly string[];
}

/**
 * Starts `count` nodes at once, each seeded with the first (the first with the second, so it retries
 * until that one is up), and waits until every node lists every other. The stack stops them all.
 */
export async function startCluster(stack: AsyncDisposableStack, count: number, template: Omit<NodeSpec, "port" | "peers">): Promise<Cluster> {
  const ports = Array.from({ length: count }, () => freePort());
  const urls = ports.map(nodeUrlOf);
  const seedOf = (i: number) => (i === 0 ? 1 : 0);
  const specs = ports.map((port, i): NodeSpec => ({ ...template, port, peers: count > 1 ? [urls[seedOf(i)]!] : [] }));
  const started = await Promise.allSettled(specs.map((spec, i) => startServer(nodeCommand(spec), urls[i]!)));
  const servers = started.flatMap((s) => (s.status === "fulfilled" ? [stack.use(s.value)] : []));
  const failed = started.find((s) => s.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  const formed = await pollUntilAll(urls, (state) => urls.every((url) => state.peers.includes(url)), FORM_POLL_MS, FORM_TIMEOUT_MS);
  if (formed.size < count) throw new Error(`bench: ${count} nodes did not all list each other within ${FORM_TIMEOUT_MS} ms`);
  const letter = (i: number) => String.fromCharCode(65 + i);
  const shown = specs.map((spec, i) =>
    nodeCommand({ ...spec, port: `$PORT_${letter(i)}`, peers: count > 1 ? [nodeUrlOf(`$PORT_${letter(seedOf(i))}`)] : [], dataDir: "$TMP" }).join(" "),
  );
  return { urls, servers, shown };
}
