// Gossip details of the selected node: cluster health, heartbeat, peer counts and lags, then each peer.
import { Text } from "ink";
import { duration, fields, hostPort, percent, table } from "../format.ts";
import type { NodeProbe } from "./model.ts";
import { Panel } from "./panel.tsx";

const HEALTH_COLOR: Record<string, string> = { healthy: "green", degraded: "yellow", critical: "red" };
const PEER_COLOR: Record<string, string> = { active: "green", stale: "yellow", dead: "red" };

export function GossipPanel({ node, width }: { node: NodeProbe | undefined; width: number }) {
  if (node === undefined) {
    return (
      <Panel title="Gossip" width={width}>
        <Text dimColor>no node selected</Text>
      </Panel>
    );
  }
  const title = `Gossip of ${hostPort(node.url)}`;
  if (!node.up) {
    return (
      <Panel title={title} width={width}>
        <Text color="red">down</Text>
        <Text dimColor wrap="truncate-end">{node.error}</Text>
      </Panel>
    );
  }
  const g = node.gossip;
  if (g.status === "standalone") {
    return (
      <Panel title={title} width={width}>
        <Text>{`standalone: knows no other node · heartbeat ${g.node_heartbeat}`}</Text>
      </Panel>
    );
  }
  const summary = fields([
    ["peers", `${g.total_peers} · ${g.active_peers ?? 0} active, ${g.stale_peers ?? 0} stale, ${g.dead_peers ?? 0} dead`],
    ["lag", `avg ${duration(g.average_lag ?? 0)}, max ${duration(g.max_lag ?? 0)} · convergence ${percent(g.convergence_rate ?? 0, 0)}`],
  ]);
  const peers = (g.peer_details ?? []).map((p) => [hostPort(p.url), p.status, String(p.heartbeat), duration(p.lag)]);
  const [header, ...lines] = table([{ header: "PEER" }, { header: "STATUS" }, { header: "HEARTBEAT", align: "right" }, { header: "LAG", align: "right" }], peers);
  return (
    <Panel title={title} width={width}>
      <Text wrap="truncate-end">
        <Text color={HEALTH_COLOR[g.cluster_health]}>{g.cluster_health}</Text>
        {` · heartbeat ${g.node_heartbeat}`}
      </Text>
      {summary.map((line) => (
        <Text key={line} wrap="truncate-end">{line}</Text>
      ))}
      <Text dimColor wrap="truncate-end">{header}</Text>
      {lines.map((line, i) => (
        <Text key={peers[i]?.[0] ?? i} color={PEER_COLOR[peers[i]?.[1] ?? ""]} wrap="truncate-end">
          {line}
        </Text>
      ))}
    </Panel>
  );
}
