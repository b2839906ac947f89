// The shape every benchmark part returns: figures with their baselines, notes, and the commands it ran.

export type Part = "ring" | "store" | "http" | "cluster" | "replication" | "scale" | "resp";

export const PARTS: readonly Part[] = ["ring", "store", "http", "cluster", "replication", "scale", "resp"];

/**
 * "ms" is a duration (time until every member knows, or until every key has its copies); smaller is better, like the /op units.
 * "%" is a share (of the hash space or of the keys a node owns), closest to its baseline's even share is best,
 * or of a CPU core (the scale part). "B" and "MB" are sizes (bytes sent, resident memory) and "writes" a count:
 * smaller is better.
 */
export type Unit = "ns/op" | "µs/op" | "ops/s" | "req/s" | "ms" | "%" | "B" | "MB" | "writes";

export interface Figure {
  readonly part: Part;
  /** Figures in one group share a baseline, e.g. "10k keys, get" or "SQLite puts". */
  readonly group: string;
  readonly name: string;
  readonly value: number;
  readonly unit: Unit;
  /** The baseline's name; undefined when this figure is the baseline of its group. */
  readonly baseline: string | undefined;
  /** This figure divided by its baseline (same unit): a time multiple for /op and ms units, a throughput multiple otherwise. */
  readonly ratio: number;
  /** Extra context: percentiles, errors, targets; for a figure not measured (value NaN), why not. */
  readonly detail: string;
}

export interface PartResult {
  readonly part: Part;
  readonly figures: readonly Figure[];
  /** Sentences for the report: skipped work, warnings, interpretation. */
  readonly notes: readonly string[];
  /** Shell commands the part ran, for the README. */
  readonly commands: readonly string[];
  readonly elapsedMs: number;
}

/** Figures of one group against its first entry, which is the baseline. */
export function againstBaseline(
  part: Part,
  group: string,
  unit: Unit,
  baseline: { name: string; value: number; detail?: string },
  others: readonly { name: string; value: number; detail?: string }[],
): Figure[] {
  const base: Figure = { part, group, unit, name: baseline.name, value: baseline.value, baseline: undefined, ratio: 1, detail: baseline.detail ?? "" };
  return [
    base,
    ...others.map((o) => ({ part, group, unit, name: o.name, value: o.value, baseline: baseline.name, ratio: o.value / baseline.value, detail: o.detail ?? "" })),
  ];
}

/** Whether a larger value is better for this unit; decides how ratios read in the report. */
export function isThroughput(unit: Unit): boolean {
  return unit === "ops/s" || unit === "req/s";
}
