// Turns figures into text: number and ratio formats, the console table, and the figure tables of the README.
import { isThroughput, type Figure, type Part, type PartResult } from "./figures.ts";

export const PART_TITLES: Record<Part, string> = {
  ring: "Ring (mitata, in process)",
  store: "Store (in process, time-bounded loops)",
  http: "HTTP on one node (wrk, separate processes)",
  cluster: "Cluster: forwarding and gossip (wrk and polling, separate processes)",
  replication: "Replication: three copies against one, and re-replication after a kill -9 (wrk and polling, separate processes)",
  scale: "Scale: 3 sqlite nodes at RF=3 holding 100k and 1M keys each (separate processes)",
  resp: "Redis protocol: a LimeDB node's REDIS_PORT against redis-server (redis-benchmark, separate processes)",
};

/** What a figure that was not measured (NaN: skipped, LOST, past its bound) shows; its detail says why. */
const NOT_MEASURED = "—";

export function formatValue(value: number, unit: Figure["unit"]): string {
  if (Number.isNaN(value)) return NOT_MEASURED;
  if (isThroughput(unit)) return Math.round(value).toLocaleString("en-US");
  // Durations come from polling every 20 ms: fractions of a millisecond would be noise.
  if (unit === "ms") return value < 10 ? value.toFixed(2) : Math.round(value).toLocaleString("en-US");
  if (unit === "%") return value < 10 ? value.toFixed(2) : value.toFixed(1);
  if (unit === "B" || unit === "writes") return Math.round(value).toLocaleString("en-US");
  if (unit === "MB") return Math.round(value).toLocaleString("en-US");
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

/** Three significant digits; a ratio under 0.1 reads as a fraction (1/254×) rather than a run of zeros. */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return NOT_MEASURED;
  if (ratio >= 100) return `${Math.round(ratio)}×`;
  if (ratio >= 10) return `${ratio.toFixed(1)}×`;
  if (ratio >= 0.1) return `${ratio.toFixed(2)}×`;
  const inverse = 1 / ratio;
  const digits = inverse >= 1000 ? Math.round(Number(inverse.toPrecision(3))).toLocaleString("en-US") : inverse.toPrecision(3);
  return `1/${digits}×`;
}

/**
 * Throughput ratios read "times the baseline's speed". The other parts mix kinds: the ring has times
 * per lookup and shares of the ring against an even share; cluster and replication have req/s against
 * a baseline load and ms against a configured gossip setting or a measured load time.
 */
export function ratioHeading(part: Part): string {
  return part === "store" || part === "http" ? "speed ÷ baseline" : "÷ baseline";
}

function ratioCell(figure: Figure): string {
  return figure.baseline === undefined ? "1 (baseline)" : formatRatio(figure.ratio);
}

function valueCell(figure: Figure): string {
  const value = formatValue(figure.value, figure.unit);
  return value === NOT_MEASURED ? value : `${value} ${figure.unit}`;
}

function rows(figures: readonly Figure[]): string[][] {
  return figures.map((f) => [f.group, f.name, valueCell(f), ratioCell(f), f.detail]);
}

function alignedTable(header: readonly string[], body: readonly string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => (r[c] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((cell, c) => (c === 2 || c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

export function consoleReport(results: readonly PartResult[], totalMs: number): string {
  const sections = results.map((result) => {
    const title = `${PART_TITLES[result.part]} — ${(result.elapsedMs / 1000).toFixed(1)} s`;
    const table = result.figures.length === 0 ? "(no figures)" : alignedTable(["group", "figure", "value", ratioHeading(result.part), "detail"], rows(result.figures));
    const notes = result.notes.map((n) => `* ${n}`).join("\n");
    return [title, "=".repeat(title.length), table, notes].filter((s) => s !== "").join("\n");
  });
  return [...sections, `total ${(totalMs / 1000).toFixed(1)} s`].join("\n\n");
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|");
}

export function markdownTable(result: PartResult): string {
  if (result.figures.length === 0) return "_No figures: see the note below._";
  const header = ["group", "figure", "value", ratioHeading(result.part), "detail"];
  const body = rows(result.figures).map((r) => `| ${r.map((cell, c) => escapeCell(c === 3 && cell === "1 (baseline)" ? "**baseline**" : cell)).join(" | ")} |`);
  return [`| ${header.join(" | ")} |`, "|---|---|--:|--:|---|", ...body].join("\n");
}
