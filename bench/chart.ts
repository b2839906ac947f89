// The README's chart: grouped horizontal bars as SVG text, from a full run's figures; pure functions, no dependency.
import type { PartResult } from "./figures.ts";
import { SHAPES } from "./http.ts";
import { loadGroup, SETUPS } from "./replication-load.ts";
import { formatRatio } from "./report.ts";
import type { LoadBackend, LoadShape } from "./wrk.ts";

export interface Series {
  readonly name: string;
  readonly colour: string;
}

/** One bar: its value (NaN draws as "not measured") and a short note after the value, such as its ratio. */
export interface Bar {
  readonly value: number;
  readonly note: string;
}

/** One labelled group of bars, a bar per series. */
export interface BarGroup {
  readonly label: string;
  readonly bars: readonly Bar[];
}

export interface Panel {
  readonly title: string;
  /** A line under the title: what the baseline is, what the bars count. */
  readonly note: string;
  readonly series: readonly Series[];
  readonly groups: readonly BarGroup[];
}

const WIDTH_PX = 960;
const MARGIN_PX = 16;
/** Room for group labels left of the bars, and for value labels right of the longest bar. */
const LABEL_PX = 300;
const VALUE_PX = 150;
const BAR_PX = 16;
const BAR_GAP_PX = 2;
const GROUP_GAP_PX = 12;
const HEAD_PX = 52;
const AXIS_PX = 26;
const PANEL_GAP_PX = 18;
const TICKS = 5;
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
/** Blue and orange: told apart by most colour-blind readers too. */
const GET_SERIES: Series = { name: "GET (reads)", colour: "#2f6db3" };
const SET_SERIES: Series = { name: "SET (writes)", colour: "#e07b28" };

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attributes === "" ? "" : ` ${attributes}`}>${escapeXml(content)}</text>`;
}

/** A round step (1, 2 or 5 times a power of ten) that splits 0..max into about TICKS parts. */
export function tickStep(max: number): number {
  if (!(max > 0)) return 1;
  const raw = max / TICKS;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / magnitude;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * magnitude;
}

const formatCount = (value: number) => Math.round(value).toLocaleString("en-US");

function panelHeight(panel: Panel): number {
  const barsPx = panel.groups.length * (panel.series.length * (BAR_PX + BAR_GAP_PX) + GROUP_GAP_PX);
  return HEAD_PX + barsPx + AXIS_PX;
}

function legend(series: readonly Series[], y: number): string {
  let x = WIDTH_PX - MARGIN_PX;
  const items: string[] = [];
  // Right to left, so the legend ends at the right margin whatever the names' lengths.
  for (const s of [...series].reverse()) {
    x -= s.name.length * 7 + 8;
    items.push(`<rect x="${x - 16}" y="${y - 10}" width="12" height="12" fill="${s.colour}"/>`, text(x, y, s.name, 'font-size="13"'));
    x -= 28;
  }
  return items.join("");
}

function axis(top: number, bottom: number, scaleMax: number, step: number): string {
  const barMaxPx = WIDTH_PX - MARGIN_PX - LABEL_PX - VALUE_PX;
  const parts: string[] = [];
  for (let tick = 0; tick <= scaleMax + step / 2; tick += step) {
    const x = LABEL_PX + (tick / scaleMax) * barMaxPx;
    parts.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="#d9d9d9"/>`);
    parts.push(text(x, bottom + 16, formatCount(tick), 'font-size="11" fill="#555" text-anchor="middle"'));
  }
  return parts.join("");
}

function bars(panel: Panel, top: number, scaleMax: number): string {
  const barMaxPx = WIDTH_PX - MARGIN_PX - LABEL_PX - VALUE_PX;
  const parts: string[] = [];
  let y = top;
  for (const group of panel.groups) {
    const groupPx = panel.series.length * (BAR_PX + BAR_GAP_PX);
    parts.push(text(LABEL_PX - 10, y + groupPx / 2 + 4, group.label, 'font-size="13" text-anchor="end"'));
    panel.series.forEach((series, i) => {
      const { value, note } = group.bars[i] ?? { value: Number.NaN, note: "" };
      const barY = y + i * (BAR_PX + BAR_GAP_PX);
      if (Number.isNaN(value)) {
        parts.push(text(LABEL_PX + 4, barY + BAR_PX - 4, "not measured", 'font-size="12" fill="#888" font-style="italic"'));
        return;
      }
      const widthPx = Math.max(1, (value / scaleMax) * barMaxPx);
      parts.push(`<rect x="${LABEL_PX}" y="${barY}" width="${widthPx.toFixed(1)}" height="${BAR_PX}" fill="${series.colour}"><title>${escapeXml(`${group.label}, ${series.name}: ${formatCount(value)}`)}</title></rect>`);
      parts.push(`<text x="${(LABEL_PX + widthPx + 5).toFixed(1)}" y="${barY + BAR_PX - 4}" font-size="12">${formatCount(value)}<tspan fill="#666"> ${escapeXml(note)}</tspan></text>`);
    });
    y += groupPx + GROUP_GAP_PX;
  }
  return parts.join("");
}

function renderPanel(panel: Panel, top: number): string {
  const values = panel.groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => !Number.isNaN(v));
  const step = tickStep(Math.max(0, ...values));
  const scaleMax = Math.max(step, Math.ceil(Math.max(0, ...values) / step) * step);
  const barsTop = top + HEAD_PX;
  const barsBottom = top + panelHeight(panel) - AXIS_PX;
  return [
    text(MARGIN_PX, top + 18, panel.title, 'font-size="16" font-weight="600"'),
    text(MARGIN_PX, top + 38, panel.note, 'font-size="12" fill="#555"'),
    legend(panel.series, top + 18),
    values.length === 0 ? "" : axis(barsTop - 4, barsBottom, scaleMax, step),
    bars(panel, barsTop, scaleMax),
  ].join("\n");
}

/** The whole chart: panels stacked top to bottom on a white ground (dark page themes would hide black text), a caption last. */
export function chartSvg(panels: readonly Panel[], caption: string): string {
  const parts: string[] = [];
  let top = MARGIN_PX;
  for (const panel of panels) {
    parts.push(renderPanel(panel, top));
    top += panelHeight(panel) + PANEL_GAP_PX;
  }
  parts.push(text(MARGIN_PX, top + 4, caption, 'font-size="11" fill="#555"'));
  const heightPx = top + 4 + MARGIN_PX;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH_PX}" height="${heightPx}" viewBox="0 0 ${WIDTH_PX} ${heightPx}" font-family="${FONT}">
<rect width="100%" height="100%" fill="#ffffff"/>
${parts.join("\n")}
</svg>
`;
}

/** One figure of a run as a bar noted with its ratio; NaN when the run has no such figure (a part skipped, a server not installed). */
function barOf(results: readonly PartResult[], group: string, name: string): Bar {
  for (const result of results) {
    for (const f of result.figures) {
      if (f.group === group && f.name === name) return { value: f.value, note: f.baseline === undefined ? "baseline" : formatRatio(f.ratio) };
    }
  }
  return { value: Number.NaN, note: "" };
}

/** The servers of the HTTP part, in the order its table lists them. */
function httpServers(results: readonly PartResult[]): string[] {
  return results.flatMap((r) => r.figures).filter((f) => f.group === SHAPES.get.label).map((f) => f.name);
}

/** The HTTP part's GET and SET rates per server, and the replication part's RF=1 against RF=3 rates per backend. */
export function chartPanels(results: readonly PartResult[]): Panel[] {
  const series = [GET_SERIES, SET_SERIES];
  const http: Panel = {
    title: "One node: HTTP requests/s",
    note: "wrk -t2 -c64 on the same 2 cores; raw Bun.serve is the baseline, redis-server (RESP, redis-benchmark -c 64) a reference",
    series,
    groups: httpServers(results).map((name) => ({ label: name, bars: [barOf(results, SHAPES.get.label, name), barOf(results, SHAPES.set.label, name)] })),
  };
  const shapes: readonly LoadShape[] = ["get", "set"];
  const backends: readonly LoadBackend[] = ["memory", "sqlite"];
  const replication: Panel = {
    title: "Three nodes: requests/s at node A, three copies against one",
    note: "wrk -t2 -c64 at node A; one node alone is the baseline; RF=1 and RF=3 (W=2, R=2) on three nodes",
    series,
    groups: backends.flatMap((backend) =>
      SETUPS.map((setup) => ({ label: `${backend}, ${setup.name}`, bars: shapes.map((shape) => barOf(results, loadGroup(shape, backend), setup.name)) })),
    ),
  };
  return [http, replication];
}
