// Pure text formatting for the client's human output and the full-screen view: tables, bars, shares, durations.

/** Gap between table columns, in cells. */
const COLUMN_GAP = "  ";
/** Eighths of a cell, so a bar shows a share to 1/8 of a cell. */
const BAR_EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"] as const;
const BAR_FULL = "█";
const BAR_EMPTY = "·";

const CONTROL_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Makes text from a node safe to print inside a table: control characters (which could move the cursor
 * or recolour the terminal) and line breaks (which would break the row) are written as escapes.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => CONTROL_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Width of text in terminal cells (wide characters count two). */
export function cells(text: string): number {
  return Bun.stringWidth(text);
}

/** Cuts text to at most `width` cells, ending in an ellipsis when something was cut. */
export function truncate(text: string, width: number): string {
  if (cells(text) <= width) return text;
  if (width <= 0) return "";
  let out = "";
  for (const char of text) {
    if (cells(out + char) > width - 1) break;
    out += char;
  }
  return `${out}…`;
}

export function padEnd(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - cells(text)));
}

export function padStart(text: string, width: number): string {
  return " ".repeat(Math.max(0, width - cells(text))) + text;
}

export interface Column {
  readonly header: string;
  readonly align?: "left" | "right";
}

/** Width of each column: its widest cell, header included. */
export function columnWidths(columns: readonly Column[], rows: readonly (readonly string[])[]): number[] {
  return columns.map((column, i) => Math.max(cells(column.header), ...rows.map((row) => cells(row[i] ?? ""))));
}

/** One aligned row; the last column is not padded, so lines carry no trailing spaces. */
export function tableRow(columns: readonly Column[], widths: readonly number[], row: readonly string[]): string {
  const parts = columns.map((column, i) => {
    const cell = row[i] ?? "";
    const width = widths[i] ?? 0;
    if (column.align === "right") return padStart(cell, width);
    return i === columns.length - 1 ? cell : padEnd(cell, width);
  });
  return parts.join(COLUMN_GAP).trimEnd();
}

/** A table: a header line, then one line per row, columns aligned. */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const widths = columnWidths(columns, rows);
  return [
    tableRow(
      columns,
      widths,
      columns.map((c) => c.header),
    ),
    ...rows.map((row) => tableRow(columns, widths, row)),
  ];
}

/** Label/value lines with the values aligned, e.g. `node     http://...`. */
export function fields(pairs: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...pairs.map(([label]) => cells(label)));
  return pairs.map(([label, value]) => `${padEnd(label, width)}  ${value}`.trimEnd());
}

/** A fraction (0 to 1) as a percentage, e.g. 0.3341 → "33.4%". */
export function percent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** A relative deviation as a signed percentage, e.g. 0.017 → "+1.7%", -0.02 → "-2.0%"; zero is "+0.0%". */
export function signedPercent(fraction: number, digits = 1): string {
  const text = (Math.abs(fraction) * 100).toFixed(digits);
  const negative = fraction < 0 && Number(text) !== 0;
  return `${negative ? "-" : "+"}${text}%`;
}

/** A bar of `width` cells filled to `fraction` (clamped to 0..1), in eighths of a cell. */
export function bar(fraction: number, width: number): string {
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const eighths = Math.round(clamped * width * 8);
  const full = Math.floor(eighths / 8);
  const part = BAR_EIGHTHS[eighths % 8] ?? "";
  const used = full + (part === "" ? 0 : 1);
  return BAR_FULL.repeat(full) + part + BAR_EMPTY.repeat(Math.max(0, width - used));
}

/** Milliseconds for people: "3 ms", "1.2 s". */
export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1_000).toFixed(1)} s`;
}

/** host:port of a node URL, for narrow columns; the URL itself when it does not parse. */
export function hostPort(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.port === "" ? parsed.hostname : `${parsed.hostname}:${parsed.port}`;
  } catch {
    return url;
  }
}

/** The port of a node URL, or the scheme's default. */
export function portOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.port !== "" ? parsed.port : parsed.protocol === "https:" ? "443" : "80";
  } catch {
    return "";
  }
}

export interface RingShare {
  readonly nodeUrl: string;
  readonly vnodes: number;
  /** Fraction of the hash space, 0 to 1. */
  readonly share: number;
  /** How far the share is from the mean share, relative to it: +0.05 is 5 % more than an even split. */
  readonly deviation: number;
  /** The share relative to the largest share, 0 to 1: what a bar shows. */
  readonly relative: number;
}

/** Each node's share of the ring and its deviation from the mean, sorted by node URL. */
export function ringShares(shares: Readonly<Record<string, number>>, vnodes: Readonly<Record<string, number>> = {}): RingShare[] {
  const urls = Object.keys(shares).sort();
  if (urls.length === 0) return [];
  const values = urls.map((url) => shares[url] ?? 0);
  const mean = values.reduce((sum, share) => sum + share, 0) / urls.length;
  const max = Math.max(...values);
  return urls.map((nodeUrl, i) => {
    const share = values[i] ?? 0;
    return { nodeUrl, vnodes: vnodes[nodeUrl] ?? 0, share, deviation: mean === 0 ? 0 : share / mean - 1, relative: max === 0 ? 0 : share / max };
  });
}
