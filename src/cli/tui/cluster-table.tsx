// The cluster table: one row per known node (state, URL, port, peers, gossip active/total, latency), the selected one marked.
import { Text } from "ink";
import { columnWidths, padEnd, padStart } from "../format.ts";
import { CLUSTER_HEADERS, clusterRows, type NodeCondition, type NodeProbe } from "./model.ts";
import { Panel } from "./panel.tsx";

const CONDITION_COLOR: Record<NodeCondition, string> = { up: "green", leaving: "yellow", down: "red" };
/** Columns aligned right: the numbers. */
const RIGHT = new Set([2, 3, 5]);

export function ClusterTable({ nodes, selected, active, note }: { nodes: readonly NodeProbe[]; selected: string | undefined; active: boolean; note: string }) {
  const rows = clusterRows(nodes);
  const widths = columnWidths(
    CLUSTER_HEADERS.map((header) => ({ header })),
    rows.map((row) => row.cells),
  );
  const cell = (text: string, i: number) => (RIGHT.has(i) ? padStart(text, widths[i] ?? 0) : padEnd(text, widths[i] ?? 0));
  const up = rows.filter((row) => row.condition !== "down").length;
  return (
    <Panel title={`LimeDB cluster · ${rows.length} nodes known, ${up} up · ${note}`} active={active}>
      <Text dimColor wrap="truncate-end">{`  ${CLUSTER_HEADERS.map(cell).join("  ")}`}</Text>
      {rows.length === 0 ? <Text dimColor>  asking the seeds…</Text> : null}
      {rows.map((row) => {
        const isSelected = row.url === selected;
        return (
          <Text key={row.url} wrap="truncate-end">
            <Text color="cyan">{isSelected ? "› " : "  "}</Text>
            <Text color={CONDITION_COLOR[row.condition]} bold>
              {cell(row.cells[0], 0)}
            </Text>
            <Text inverse={isSelected}>{`  ${row.cells.slice(1).map((text, i) => cell(text, i + 1)).join("  ")}`}</Text>
          </Text>
        );
      })}
    </Panel>
  );
}
