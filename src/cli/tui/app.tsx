// The full-screen view: the cluster table, ring bars beside the selected node's gossip, the data explorer, a line of key help.
import { Box, Text, useApp, useInput, useWindowSize } from "ink";
import { useEffect, useState, useSyncExternalStore } from "react";
import type { NodeClient } from "../../client/node-client.ts";
import { ClusterTable } from "./cluster-table.tsx";
import { Explorer, type ExplorerFocus } from "./explorer.tsx";
import { GossipPanel } from "./gossip-panel.tsx";
import { answeringNode, moveSelection } from "./model.ts";
import { RING_PANEL_CELLS_MIN, RingBars } from "./ring-bars.tsx";
import type { ClusterWatch } from "./watch.ts";

type Focus = "nodes" | ExplorerFocus;
/** Tab walks this cycle; Shift-Tab walks it back. */
const FOCUS_CYCLE: readonly Focus[] = ["nodes", "key", "value", "actions"];

const HELP: Record<Focus, string> = {
  nodes: "↑/↓ select node · Tab data explorer · r refresh · q quit",
  key: "type a key · Enter GET · Tab next field · Esc back to nodes",
  value: "type a value · Enter SET · Tab next field · Esc back to nodes",
  actions: "←/→ choose · Enter run · Tab back to nodes · Esc back to nodes",
};

function clockTime(epochMs: number): string {
  return new Date(epochMs).toTimeString().slice(0, 8);
}

export function App({ seeds, watch, clientFor }: { seeds: readonly string[]; watch: ClusterWatch; clientFor: (url: string) => NodeClient }) {
  const snapshot = useSyncExternalStore(watch.subscribe, () => watch.current);
  const { exit } = useApp();
  const { columns, rows } = useWindowSize();
  const [focus, setFocus] = useState<Focus>("nodes");
  const [picked, setPicked] = useState<string | undefined>();

  const urls = snapshot.nodes.map((node) => node.url);
  const selected = picked !== undefined && urls.includes(picked) ? picked : urls[0];
  const selectedNode = snapshot.nodes.find((node) => node.url === selected);
  const target = answeringNode(snapshot.nodes, selected);

  useEffect(() => watch.prefer(selected), [watch, selected]);

  useInput((input, key) => {
    if (focus === "nodes") {
      if (input === "q") exit();
      else if (input === "r") void watch.refresh();
      else if (key.upArrow) setPicked(moveSelection(urls, selected, -1));
      else if (key.downArrow) setPicked(moveSelection(urls, selected, 1));
      else if (key.tab && !key.shift) setFocus("key");
      return;
    }
    // In the explorer every printable key is typed into a field; only these leave it.
    const index = FOCUS_CYCLE.indexOf(focus);
    if (key.escape) setFocus("nodes");
    else if (key.tab) setFocus(FOCUS_CYCLE[(index + (key.shift ? FOCUS_CYCLE.length - 1 : 1)) % FOCUS_CYCLE.length] ?? "nodes");
  });

  // Ring and gossip share a row; the ring keeps room for its bars on a narrow terminal.
  const ringWidth = Math.min(columns, Math.max(Math.floor(columns / 2), RING_PANEL_CELLS_MIN));
  const refreshed = snapshot.refreshedAtMs === undefined ? "starting" : `refreshed ${clockTime(snapshot.refreshedAtMs)}`;
  return (
    <Box flexDirection="column" width={columns} height={rows} overflow="hidden">
      <ClusterTable
        nodes={snapshot.nodes}
        selected={selected}
        active={focus === "nodes"}
        note={`seed ${seeds.join(", ")} · ${refreshed}, every 2 s${snapshot.refreshing ? " · refreshing…" : ""}`}
      />
      <Box flexShrink={0}>
        <RingBars ring={snapshot.ring} width={ringWidth} />
        {columns - ringWidth > 0 ? <GossipPanel node={selectedNode} width={columns - ringWidth} /> : null}
      </Box>
      <Explorer focus={focus === "nodes" ? undefined : focus} target={target} clientFor={clientFor} width={columns} />
      <Text dimColor wrap="truncate-end">
        {HELP[focus]}
      </Text>
    </Box>
  );
}
