// The overview's data, read each refresh: the serving node's members, the chosen node's views, every member's
// health and figures (/metrics, for the live charts).
import { ClientError, clientFor, type NodeRef, probeFor } from "./nodes.ts";
import type { ClusterState, GossipView, Health, Member, RingView } from "./api-types.ts";
import { type MemberReading, parseScrape } from "./live-figures.ts";
import { refFor } from "./members.ts";

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ClientError };

export async function settle<T>(work: Promise<T>, nodeUrl: string): Promise<Result<T>> {
  try {
    return { ok: true, value: await work };
  } catch (error) {
    return { ok: false, error: error instanceof ClientError ? error : new ClientError("unreachable", `${nodeUrl}: ${String(error)}`) };
  }
}

export interface Snapshot {
  readonly atMs: number;
  /** The serving node's state: the member list every choice of node is checked against. */
  readonly home: ClusterState;
  /** The node the overview reads from (the serving node in the All nodes view). */
  readonly node: NodeRef;
  readonly state: Result<ClusterState>;
  readonly ring: Result<RingView>;
  readonly gossip: Result<GossipView>;
  /** Each member's own health answer, asked directly, keyed by member URL. */
  readonly health: ReadonlyMap<string, Result<Health>>;
  /** Each live member's /metrics text and when it arrived (ms), asked at the same time, keyed by member URL. */
  readonly metrics: ReadonlyMap<string, Result<{ readonly text: string; readonly atMs: number }>>;
}

/** Reads the chosen node's views and probes every member the serving node lists, all at once. */
export async function readSnapshot(home: ClusterState, node: NodeRef): Promise<Snapshot> {
  const client = clientFor(node);
  const probes = home.members.map(async (m) => [m.url, await settle(probeFor(refFor(m.url, home)).health(), m.url)] as const);
  // Dead members are not asked for figures: their charts simply stop.
  const live = home.members.filter((m) => m.state !== "dead");
  // Each read is timed when it arrives: a rate is taken between two reads, not between two snapshots' ends.
  const figures = live.map(async (m) => [m.url, await settle(probeFor(refFor(m.url, home)).metrics().then((text) => ({ text, atMs: Date.now() })), m.url)] as const);
  const [state, ring, gossip, health, metrics] = await Promise.all([
    node.base === "" ? Promise.resolve<Result<ClusterState>>({ ok: true, value: home }) : settle(client.state(), node.url),
    settle(client.ring().then((ring) => ring.body), node.url),
    settle(client.gossip(), node.url),
    Promise.all(probes),
    Promise.all(figures),
  ]);
  return { atMs: Date.now(), home, node, state, ring, gossip, health: new Map(health), metrics: new Map(metrics) };
}

/** What the live charts take from a snapshot: each member's figures and key count as read this refresh. */
export function readingsOf(snapshot: Snapshot): Map<string, MemberReading> {
  const readings = new Map<string, MemberReading>();
  for (const { url } of snapshot.home.members) {
    const figures = snapshot.metrics.get(url);
    const health = snapshot.health.get(url);
    readings.set(url, {
      scrape: figures?.ok === true ? parseScrape(figures.value.text, figures.value.atMs) : undefined,
      keys: health?.ok === true && health.value.storage.error === undefined ? health.value.storage.keys : null,
    });
  }
  return readings;
}

/** What the node table says of a member, from its gossip state and the page's own probe. */
export type NodeStatus = "healthy" | "unhealthy" | "unreachable" | "suspect" | "down";

/**
 * Gossip has the last word on dead; a probe that fails while gossip still says active is "unreachable"
 * (the browser may not reach a member the cluster can, e.g. behind Docker networking), and "down"
 * once gossip suspects the member too.
 */
export function nodeStatus(member: Pick<Member, "state">, probe: Result<Health> | undefined): NodeStatus {
  if (member.state === "dead") return "down";
  if (probe === undefined) return member.state === "stale" ? "suspect" : "unreachable";
  if (!probe.ok) {
    // It answered, but not with a health body: the node is up and something on it is wrong.
    if (probe.error.kind !== "unreachable" && probe.error.kind !== "timeout") return "unhealthy";
    return member.state === "stale" ? "down" : "unreachable";
  }
  if (probe.value.status !== "healthy") return "unhealthy";
  return member.state === "stale" ? "suspect" : "healthy";
}

/** Members as the chosen node sees them, falling back to the serving node's list when the chosen one did not answer. */
export function membersOf(snapshot: Snapshot): readonly Member[] {
  return snapshot.state.ok ? snapshot.state.value.members : snapshot.home.members;
}
