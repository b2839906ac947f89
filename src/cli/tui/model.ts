// What the full-screen view knows of a cluster, as values: probes of nodes, the set of known nodes, the rows shown.
import type { GossipBody, RingBody, StateBody } from "../../client/node-client.ts";
import { duration, portOf } from "../format.ts";

/** Nodes the view follows at most; discovery stops adding past it so a confused cluster cannot grow the screen without bound. */
export const NODES_MAX = 64;

/** One node as the last refresh found it: answering, with its views, or not. */
export type NodeProbe =
  | { readonly url: string; readonly up: true; readonly latencyMs: number; readonly state: StateBody; readonly gossip: GossipBody }
  | { readonly url: string; readonly up: false; readonly error: string };

export type RingView = { readonly source: string; readonly body: RingBody } | { readonly source: string; readonly error: string };

export interface Snapshot {
  /** Every known node, sorted by URL. */
  readonly nodes: readonly NodeProbe[];
  readonly ring?: RingView;
  /** When the last refresh ended (epoch ms); undefined before the first. */
  readonly refreshedAtMs?: number;
  readonly refreshing: boolean;
}

export const EMPTY_SNAPSHOT: Snapshot = { nodes: [], refreshing: false };

/** URLs that answering nodes name as members or gossip peers: how nodes beyond the seeds are discovered. */
export function discovered(probes: readonly NodeProbe[]): string[] {
  const urls = new Set<string>();
  for (const probe of probes) {
    if (!probe.up) continue;
    for (const member of probe.state.members) urls.add(member.url);
    for (const peer of probe.gossip.peer_details ?? []) urls.add(peer.url);
  }
  return [...urls];
}

/** The known nodes with newly found ones added (sorted, bounded by `max`); a node once known stays known, shown down if it stops answering. */
export function mergeKnown(known: readonly string[], found: readonly string[], max = NODES_MAX): string[] {
  const merged = [...known];
  const fresh = [...new Set(found)].filter((url) => !known.includes(url)).sort();
  for (const url of fresh) {
    if (merged.length >= max) break;
    merged.push(url);
  }
  return merged;
}

export type NodeCondition = "up" | "leaving" | "down";

export function conditionOf(probe: NodeProbe): NodeCondition {
  if (!probe.up) return "down";
  const self = probe.state.members.find((m) => m.url === probe.url);
  return self?.leaving === true ? "leaving" : "up";
}

export interface ClusterRow {
  readonly url: string;
  readonly condition: NodeCondition;
  /** Cells: state, node URL, port, peers, gossip active/total, latency. */
  readonly cells: readonly [string, string, string, string, string, string];
}

export const CLUSTER_HEADERS = ["STATE", "NODE", "PORT", "PEERS", "GOSSIP", "LATENCY"] as const;

/** The cluster table's rows: peers is the node's ring size, gossip its active peers over all peers it knows. */
export function clusterRows(probes: readonly NodeProbe[]): ClusterRow[] {
  return probes.map((probe) => {
    const condition = conditionOf(probe);
    if (!probe.up) return { url: probe.url, condition, cells: [condition, probe.url, portOf(probe.url), "-", "-", "-"] };
    const gossip = probe.gossip.status === "standalone" ? "standalone" : `${probe.gossip.active_peers ?? 0}/${probe.gossip.total_peers}`;
    return { url: probe.url, condition, cells: [condition, probe.url, portOf(probe.url), String(probe.state.totalNodes), gossip, duration(probe.latencyMs)] };
  });
}

/** The node the view reads the ring from and sends the explorer's operations to: the selected one when it answers, else the first that does. */
export function answeringNode(probes: readonly NodeProbe[], selected: string | undefined): string | undefined {
  const up = probes.filter((p) => p.up);
  return (up.find((p) => p.url === selected) ?? up[0])?.url;
}

/** The URL `delta` rows away from `current` in `urls`, staying within the list. */
export function moveSelection(urls: readonly string[], current: string | undefined, delta: number): string | undefined {
  if (urls.length === 0) return undefined;
  const index = current === undefined ? -1 : urls.indexOf(current);
  const next = index === -1 ? 0 : Math.min(urls.length - 1, Math.max(0, index + delta));
  return urls[next];
}
