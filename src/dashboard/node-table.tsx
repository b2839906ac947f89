// The overview's table of members: status from gossip and the page's own probe, heartbeat, lag, keys and store.
/** @jsxImportSource preact */
import type { ClientError } from "./nodes.ts";
import type { Member } from "./api-types.ts";
import type { NodeStatus, Snapshot } from "./cluster-snapshot.ts";
import { colorOf, formatCount, formatMs } from "./format.ts";
import { Badge, NodeChip } from "./ui.tsx";

/** The probe's failure in a few words for the table; the whole message is in the tooltip. */
function probeProblem(error: ClientError): string {
  switch (error.kind) {
    case "unreachable":
      return "no answer to this browser";
    case "timeout":
      return "health check timed out";
    case "bad_answer":
      return "health answer is not LimeDB's";
    case "not_found":
    case "rejected":
    case "unavailable":
      return `health answered ${error.status ?? "?"}${error.code === undefined ? "" : ` ${error.code}`}`;
  }
}

export function NodeTable({ snapshot, members, statuses }: { snapshot: Snapshot; members: readonly Member[]; statuses: readonly NodeStatus[] }) {
  const urls = snapshot.home.members.map((m) => m.url);
  const gossip = snapshot.gossip.ok ? snapshot.gossip.value : undefined;
  return (
    <div class="table-wrap">
      <table class="data stack nodes">
        <thead>
          <tr>
            <th>Node</th>
            <th>Status</th>
            <th>Gossip</th>
            <th class="num">Heartbeat</th>
            <th class="num">Lag</th>
            <th class="num">Generation</th>
            <th class="num">Keys</th>
            <th>Store</th>
          </tr>
        </thead>
        <tbody>
          {members.map((m, i) => {
            const probe = snapshot.health.get(m.url);
            const health = probe?.ok === true ? probe.value : undefined;
            const peer = gossip?.peer_details?.find((p) => p.url === m.url);
            const self = m.url === snapshot.node.url;
            return (
              <tr key={m.url} data-node={m.url} data-status={statuses[i]}>
                <td data-label="Node">
                  <NodeChip url={m.url} color={colorOf(m.url, urls)} />
                  {m.url === snapshot.home.nodeUrl ? <span class="tag">serving</span> : null}
                  {m.leaving ? <span class="tag">leaving</span> : null}
                </td>
                <td data-label="Status">
                  <Badge status={statuses[i] ?? "unreachable"} />
                  {probe?.ok === false ? (
                    <div class="small error-text" title={probe.error.message}>
                      {probeProblem(probe.error)}
                    </div>
                  ) : null}
                </td>
                <td data-label="Gossip">
                  <Badge status={`gossip-${m.state}`}>{m.state}</Badge>
                </td>
                <td data-label="Heartbeat" class="num">{formatCount(m.heartbeat)}</td>
                <td data-label="Lag" class="num">{self ? "self" : peer === undefined ? "—" : formatMs(peer.lag)}</td>
                <td data-label="Generation" class="num">{m.generation}</td>
                <td data-label="Keys" class="num">{health === undefined ? "—" : formatCount(health.storage.keys)}</td>
                <td data-label="Store">{health === undefined ? "—" : health.storage.type}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
