// The overview: member health and state, live traffic charts, the ring chart, gossip status and replication,
// from the latest snapshot and the figures of the last minutes.
/** @jsxImportSource preact */
import type { ClusterState, GossipView } from "./api-types.ts";
import { membersOf, nodeStatus, type Snapshot } from "./cluster-snapshot.ts";
import { formatCount, formatMs, formatPercent, shortUrl } from "./format.ts";
import { LiveCharts } from "./live-charts.tsx";
import type { LivePoint } from "./live-figures.ts";
import { NodeTable } from "./node-table.tsx";
import { RingChart } from "./ring-chart.tsx";
import { Badge, ErrorNote, Stat } from "./ui.tsx";

export function OverviewView({ snapshot, live }: { snapshot: Snapshot | undefined; live: ReadonlyMap<string, readonly LivePoint[]> }) {
  if (snapshot === undefined) return <p class="muted">Reading the cluster…</p>;
  const members = [...membersOf(snapshot)].sort((a, b) => (a.url < b.url ? -1 : 1));
  const urls = snapshot.home.members.map((m) => m.url);
  const statuses = members.map((m) => nodeStatus(m, snapshot.health.get(m.url)));
  const healthy = statuses.filter((s) => s === "healthy").length;
  const down = statuses.filter((s) => s === "down").length;
  const gossip = snapshot.gossip.ok ? snapshot.gossip.value : undefined;
  const replication = snapshot.state.ok ? snapshot.state.value.replication : undefined;
  const majority = snapshot.state.ok ? snapshot.state.value.majority : undefined;

  return (
    <div class="overview">
      <p class="muted source">
        Cluster as <strong>{shortUrl(snapshot.node.url)}</strong> sees it; health asked of every member directly.
      </p>
      <section class="stats">
        <Stat
          label="Nodes"
          testId="stat-nodes"
          status={healthy === members.length ? "healthy" : down > 0 ? "down" : "unhealthy"}
          value={`${healthy} / ${members.length} healthy`}
          detail={statuses.length === healthy ? "every member answers" : summarize(statuses)}
        />
        <Stat
          label="Gossip"
          testId="stat-gossip"
          status={gossip?.cluster_health}
          value={gossip === undefined ? "—" : gossip.status === "standalone" ? "standalone" : gossip.cluster_health}
          detail={gossip === undefined || gossip.status === "standalone" ? "no peers" : `convergence ${formatPercent(gossip.convergence_rate ?? 0, 0)} · avg lag ${formatMs(gossip.average_lag ?? 0)}`}
        />
        <Stat
          label="Majority"
          testId="stat-majority"
          status={majority === undefined ? undefined : majority.majority ? "healthy" : "down"}
          value={majority === undefined ? "—" : `${majority.majority ? "yes" : "NO"} · sees ${majority.reachable} / ${majority.members}`}
          detail={
            majority === undefined
              ? undefined
              : majority.majority
                ? "this node sees most of its cluster"
                : "minority side of a partition: keys whose replicas it cannot reach answer 503"
          }
        />
        <Stat
          label="Replication"
          testId="stat-replication"
          value={replication === undefined ? "—" : `RF ${replication.factor} · W ${replication.writeQuorum} · R ${replication.readQuorum}`}
          detail={replication === undefined ? undefined : `${snapshot.state.ok ? snapshot.state.value.replicationFactor : "?"} copies at this cluster size`}
        />
        <Stat
          label="Hint backlog"
          testId="stat-hints"
          status={replication !== undefined && replication.hintBacklog > 0 ? "suspect" : undefined}
          value={replication === undefined ? "—" : formatCount(replication.hintBacklog)}
          detail={replication === undefined ? undefined : `${formatCount(replication.hintsDelivered)} delivered`}
        />
      </section>

      <section class="card">
        <h2>Nodes</h2>
        {snapshot.state.ok ? null : <ErrorNote title="Members" error={snapshot.state.error} />}
        <NodeTable snapshot={snapshot} members={members} statuses={statuses} />
      </section>

      <section class="card">
        <h2>Traffic</h2>
        <p class="muted small">HTTP requests each member answered (its own /metrics, read every refresh; reading them is left out), and its keys.</p>
        <LiveCharts series={live} memberUrls={urls} nowMs={snapshot.atMs} />
      </section>

      <div class="grid-2">
        <section class="card">
          <h2>Ring</h2>
          {snapshot.ring.ok ? <RingChart ring={snapshot.ring.value} memberUrls={urls} /> : <ErrorNote title="Ring" error={snapshot.ring.error} />}
        </section>
        <section class="card">
          <h2>Gossip</h2>
          {snapshot.gossip.ok ? <GossipDetails gossip={snapshot.gossip.value} /> : <ErrorNote title="Gossip" error={snapshot.gossip.error} />}
          <h2 class="spaced">Replication</h2>
          {snapshot.state.ok ? <ReplicationDetails state={snapshot.state.value} /> : <ErrorNote title="Replication" error={snapshot.state.error} />}
        </section>
      </div>
    </div>
  );
}

function summarize(statuses: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${status}`).join(" · ");
}

function GossipDetails({ gossip }: { gossip: GossipView }) {
  if (gossip.status === "standalone") return <p class="muted">Standalone: this node knows no peers (heartbeat {gossip.node_heartbeat}).</p>;
  return (
    <dl class="facts">
      <dt>Health</dt>
      <dd>
        <Badge status={gossip.cluster_health}>{gossip.cluster_health}</Badge>
      </dd>
      <dt>Heartbeat</dt>
      <dd>{formatCount(gossip.node_heartbeat)}</dd>
      <dt>Peers</dt>
      <dd>
        {gossip.total_peers} · {gossip.active_peers ?? 0} active · {gossip.stale_peers ?? 0} stale · {gossip.dead_peers ?? 0} dead
      </dd>
      <dt>Lag</dt>
      <dd>
        avg {formatMs(gossip.average_lag ?? 0)} · max {formatMs(gossip.max_lag ?? 0)}
      </dd>
      <dt>Convergence</dt>
      <dd>{formatPercent(gossip.convergence_rate ?? 0, 0)}</dd>
    </dl>
  );
}

function ReplicationDetails({ state }: { state: ClusterState }) {
  const r = state.replication;
  const targets = Object.entries(r.hintsByTarget).filter(([, n]) => n > 0);
  const last = r.rebalance.lastPass;
  return (
    <dl class="facts">
      <dt>Factor</dt>
      <dd>
        {r.factor} configured, {state.replicationFactor} in effect
      </dd>
      <dt>Quorums</dt>
      <dd>
        write {r.writeQuorum} · read {r.readQuorum}
      </dd>
      <dt>Hint backlog</dt>
      <dd data-testid="hint-backlog">
        {formatCount(r.hintBacklog)}
        {targets.length === 0 ? null : ` (${targets.map(([url, n]) => `${shortUrl(url)}: ${n}`).join(", ")})`}
      </dd>
      <dt>Repairs</dt>
      <dd>
        {formatCount(r.readRepairs)} on read · {formatCount(r.antiEntropyRepairs)} by anti-entropy
      </dd>
      <dt>Rebalance</dt>
      <dd>
        {r.rebalance.running ? "streaming now" : r.rebalance.pending ? "waiting to retry" : "idle"} · {r.rebalance.passes} passes · {formatCount(r.rebalance.streamed)} streamed · {formatCount(r.rebalance.dropped)} dropped
        {last === null ? null : ` · last ${formatMs(last.durationMs)}${last.failedTargets.length > 0 ? `, failed: ${last.failedTargets.map(shortUrl).join(", ")}` : ""}`}
      </dd>
    </dl>
  );
}
