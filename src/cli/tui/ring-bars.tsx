// Ring distribution: a bar per node sized by its share of the hash space, with the share and its deviation from the mean.
import { Text } from "ink";
import { bar, cells, hostPort, padEnd, padStart, percent, ringShares, signedPercent, truncate } from "../format.ts";
import type { RingView } from "./model.ts";
import { PANEL_FRAME_CELLS, Panel } from "./panel.tsx";

const LABEL_CELLS_MAX = 21;
const SHARE_CELLS = 6;
const DEVIATION_CELLS = 7;
const BAR_CELLS_MIN = 6;
/** The narrowest panel that fits a row: a short label, the smallest bar, share and deviation, and the gaps. */
export const RING_PANEL_CELLS_MIN = PANEL_FRAME_CELLS + 15 + 1 + BAR_CELLS_MIN + 1 + SHARE_CELLS + 1 + DEVIATION_CELLS;
/** Beyond this share away from the mean a node's deviation is highlighted. */
const DEVIATION_WARN = 0.1;

export function RingBars({ ring, width }: { ring: RingView | undefined; width: number }) {
  if (ring === undefined) {
    return (
      <Panel title="Ring distribution" width={width}>
        <Text dimColor>no node answers</Text>
      </Panel>
    );
  }
  if ("error" in ring) {
    return (
      <Panel title={`Ring of ${hostPort(ring.source)}`} width={width}>
        <Text color="red" wrap="truncate-end">
          {ring.error}
        </Text>
      </Panel>
    );
  }
  const rows = ringShares(ring.body.shares, ring.body.virtualNodeDistribution);
  const labelCells = Math.min(LABEL_CELLS_MAX, Math.max(4, ...rows.map((row) => cells(hostPort(row.nodeUrl)))));
  const barCells = Math.max(BAR_CELLS_MIN, width - PANEL_FRAME_CELLS - labelCells - SHARE_CELLS - DEVIATION_CELLS - 3);
  const line = (label: string, middle: string, share: string, deviation: string) =>
    `${padEnd(truncate(label, labelCells), labelCells)} ${middle} ${padStart(share, SHARE_CELLS)} ${padStart(deviation, DEVIATION_CELLS)}`;
  return (
    <Panel title={`Ring distribution · as ${hostPort(ring.source)} sees it · ${ring.body.virtualNodesPerNode} vnodes/node`} width={width}>
      <Text dimColor wrap="truncate-end">
        {line("NODE", padEnd("", barCells), "SHARE", "vs MEAN")}
      </Text>
      {rows.map((row) => (
        <Text key={row.nodeUrl} wrap="truncate-end">
          {`${padEnd(truncate(hostPort(row.nodeUrl), labelCells), labelCells)} `}
          <Text color="green">{bar(row.relative, barCells)}</Text>
          {` ${padStart(percent(row.share), SHARE_CELLS)} `}
          <Text color={Math.abs(row.deviation) > DEVIATION_WARN ? "yellow" : undefined}>{padStart(signedPercent(row.deviation), DEVIATION_CELLS)}</Text>
        </Text>
      ))}
    </Panel>
  );
}
