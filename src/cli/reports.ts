// Human reports of the client's commands, built from the API's answers: pure functions from bodies to lines.
import type { GossipBody, HealthBody, KeysBody, RingBody, StateBody } from "../client/node-client.ts";
import { bar, duration, fields, percent, printable, ringShares, signedPercent, table, truncate } from "./format.ts";

/** Cells of a value shown in the keys table; `get` prints a value whole. */
export const VALUE_CELLS_MAX = 48;
/** Cells of a key shown in tables. */
export const KEY_CELLS_MAX = 64;
/** Cells of a ring bar in `limedb ring`. */
export const RING_BAR_CELLS = 30;

export function statusReport(state: StateBody, health: HealthBody, latencyMs: number): string[] {
  const r = state.replication;
  const states = countBy(state.members.map((m) => m.state));
  const rebalance = r.rebalance.running ? "running" : r.rebalance.pending ? "waiting to retry" : "idle";
  const storage = `${health.storage.type}, ${health.storage.keys} ${plural(health.storage.keys, "key")}${health.storage.error === undefined ? "" : `, ${printable(health.storage.error)}`}`;
  const head = fields([
    ["node", `${state.nodeUrl} (${health.status}, v${health.version}, answered in ${duration(latencyMs)})`],
    ["storage", storage],
    ["ring", `${state.totalNodes} ${plural(state.totalNodes, "node")}; members ${describeCounts(states, ["active", "stale", "dead"])}`],
    ...(state.majority === undefined ? [] : [["majority", majorityLine(state.majority)] as [string, string]]),
    ["replication", `factor ${r.factor} (${state.replicationFactor} ${plural(state.replicationFactor, "copy", "copies")} now), write quorum ${r.writeQuorum}, read quorum ${r.readQuorum}`],
    ["hints", `${r.hintBacklog} waiting, ${r.hintsDelivered} delivered`],
    ["repairs", `${r.readRepairs} on read, ${r.antiEntropyRepairs} by anti-entropy`],
    ["rebalance", `${rebalance}: ${r.rebalance.passes} ${plural(r.rebalance.passes, "pass", "passes")}, ${r.rebalance.streamed} streamed, ${r.rebalance.dropped} dropped`],
  ]);
  const members = table(
    [{ header: "MEMBER" }, { header: "STATE" }, { header: "GENERATION", align: "right" }, { header: "HEARTBEAT", align: "right" }, { header: "NOTE" }],
    state.members.map((m) => [printable(m.url), m.state, String(m.generation), String(m.heartbeat), memberNote(m, state.nodeUrl)]),
  );
  return [...head, "", ...members];
}

/** Whether the node sees a majority of its cluster, in words; without one it is on the minority side of a partition. */
function majorityLine(view: NonNullable<StateBody["majority"]>): string {
  const seen = `sees ${view.reachable} of ${view.members} ${plural(view.members, "member")}`;
  return view.majority ? `yes (${seen})` : `NO (${seen}): on the minority side of a partition; keys whose replicas it cannot reach answer 503`;
}

function memberNote(member: StateBody["members"][number], self: string): string {
  const notes = [
    member.url === self ? "this node" : "",
    member.leaving ? "leaving" : "",
    member.removed === true ? "removed" : "",
    // Alive to gossip yet not answering this node's calls: a link cut between the two.
    member.reachable === false && member.state !== "dead" && member.removed !== true ? "unreachable" : "",
  ];
  return notes.filter(Boolean).join(", ");
}

export function ringReport(ring: RingBody, barCells = RING_BAR_CELLS): string[] {
  const rows = ringShares(ring.shares, ring.virtualNodeDistribution);
  const head = `ring of ${ring.currentNode}: ${ring.totalNodes} ${plural(ring.totalNodes, "node")}, ${ring.virtualNodesPerNode} virtual nodes each (${ring.virtualNodes} points)`;
  const lines = table(
    [{ header: "NODE" }, { header: "VNODES", align: "right" }, { header: "SHARE", align: "right" }, { header: "DEVIATION", align: "right" }, { header: "DISTRIBUTION" }],
    rows.map((row) => [printable(row.nodeUrl), String(row.vnodes), percent(row.share), signedPercent(row.deviation), bar(row.relative, barCells)]),
  );
  return [head, "", ...lines];
}

export function gossipReport(gossip: GossipBody): string[] {
  if (gossip.status === "standalone") {
    return [`gossip of ${gossip.node_url}: standalone (knows no other node), heartbeat ${gossip.node_heartbeat}`];
  }
  const head = fields([
    ["gossip of", `${gossip.node_url}: ${gossip.cluster_health}, heartbeat ${gossip.node_heartbeat}`],
    ["peers", `${gossip.total_peers} (${gossip.active_peers ?? 0} active, ${gossip.stale_peers ?? 0} stale, ${gossip.dead_peers ?? 0} dead), convergence ${percent(gossip.convergence_rate ?? 0, 0)}`],
    ["lag", `average ${duration(gossip.average_lag ?? 0)}, max ${duration(gossip.max_lag ?? 0)}`],
  ]);
  const peers = table(
    [{ header: "PEER" }, { header: "STATUS" }, { header: "HEARTBEAT", align: "right" }, { header: "GENERATION", align: "right" }, { header: "LAG", align: "right" }],
    (gossip.peer_details ?? []).map((p) => [printable(p.url), p.status, String(p.heartbeat), String(p.generation), duration(p.lag)]),
  );
  return [...head, "", ...peers];
}

/** A keys page, or all pages gathered (then `page` is undefined). */
export function keysReport(nodeUrl: string, keys: KeysBody["keys"], total: number, page?: { page: number; totalPages: number }): string[] {
  const where = page === undefined ? `${total} ${plural(total, "key")} on ${nodeUrl}` : `page ${page.page} of ${page.totalPages}, ${total} ${plural(total, "key")} on ${nodeUrl}`;
  if (keys.length === 0) return [total === 0 ? `no keys on ${nodeUrl}` : `${where}: this page is empty`];
  const lines = table(
    [{ header: "KEY" }, { header: "SIZE", align: "right" }, { header: "VALUE" }],
    keys.map((k) => [truncate(printable(k.key), KEY_CELLS_MAX), String(k.size), truncate(printable(k.value), VALUE_CELLS_MAX)]),
  );
  return [...lines, "", where];
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** "3 active, 1 dead": the named states first, in order, then any other, zero counts left out. */
function describeCounts(counts: ReadonlyMap<string, number>, order: readonly string[]): string {
  const names = [...order, ...[...counts.keys()].filter((name) => !order.includes(name)).sort()];
  const parts = names.filter((name) => (counts.get(name) ?? 0) > 0).map((name) => `${counts.get(name)} ${name}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

function plural(count: number, one: string, many = `${one}s`): string {
  return count === 1 ? one : many;
}
