// The fault suite's report: the runs of each fault summed into one markdown table row. Pure formatting.
import type { RunResult } from "./fault-run.ts";

export const TABLE_HEADER = [
  "fault (runs)",
  "ops (incl. final reads) / acked writes",
  "set: acked writes lost",
  "register: stale reads (oldest)",
  "acked writes lost to an older one",
  "phantom reads",
  "writes acked by a minority side",
  "divergent keys after heal",
  "ok share while faulted (per side)",
  "converged after heal (max)",
] as const;

export interface FaultSummary {
  readonly fault: string;
  readonly runs: number;
  readonly failedRuns: number;
  readonly operations: number;
  readonly acknowledgedWrites: number;
  readonly setLost: number;
  readonly setUnknown: number;
  readonly staleReads: number;
  readonly oldestStaleMs: number;
  readonly lostToOlder: number;
  readonly registerMissing: number;
  readonly phantomReads: number;
  readonly minorityAcks: number;
  readonly minorityAcksWithoutQuorum: number;
  readonly divergentKeys: number;
  readonly availability: readonly { group: string; ok: number; total: number }[];
  /** The slowest run's convergence, or undefined when some run did not converge within the bound. */
  readonly convergedAfterMsMax: number | undefined;
}

export function summarize(results: readonly RunResult[]): FaultSummary[] {
  const faults = [...new Set(results.map((r) => r.fault))];
  return faults.map((fault) => {
    const runs = results.filter((r) => r.fault === fault);
    const sum = (pick: (r: RunResult) => number) => runs.reduce((total, r) => total + pick(r), 0);
    const groups = new Map<string, { ok: number; total: number }>();
    for (const r of runs) {
      for (const g of r.check.availability) {
        const counts = groups.get(g.group) ?? { ok: 0, total: 0 };
        groups.set(g.group, { ok: counts.ok + g.ok, total: counts.total + g.total });
      }
    }
    const completed = runs.filter((r) => r.error === undefined);
    const converged = completed.every((r) => r.convergedAfterMs !== undefined) && completed.length > 0;
    return {
      fault,
      runs: runs.length,
      failedRuns: runs.length - completed.length,
      operations: sum((r) => r.check.operations),
      acknowledgedWrites: sum((r) => r.check.acknowledgedWrites),
      setLost: sum((r) => r.check.setLost),
      setUnknown: sum((r) => r.check.setUnknown),
      staleReads: sum((r) => r.check.staleReads),
      oldestStaleMs: Math.max(0, ...runs.map((r) => r.check.oldestStaleMs)),
      lostToOlder: sum((r) => r.check.lostToOlder),
      registerMissing: sum((r) => r.check.registerMissing),
      phantomReads: sum((r) => r.check.phantomReads),
      minorityAcks: sum((r) => r.check.minorityAcks),
      minorityAcksWithoutQuorum: sum((r) => r.check.minorityAcksWithoutQuorum),
      divergentKeys: sum((r) => r.check.divergentKeys),
      availability: [...groups].map(([group, counts]) => ({ group, ...counts })),
      convergedAfterMsMax: converged ? Math.max(...completed.map((r) => r.convergedAfterMs ?? 0)) : undefined,
    };
  });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Rounded down, so 100% means every operation was answered and 0% that none was. */
function share(ok: number, total: number): string {
  return total === 0 ? "-" : `${Math.floor((100 * ok) / total)}%`;
}

function row(s: FaultSummary, convergeTimeoutMs: number): string[] {
  return [
    `${s.fault} (${s.runs}${s.failedRuns > 0 ? `, ${s.failedRuns} failed` : ""})`,
    `${s.operations} / ${s.acknowledgedWrites}`,
    `${s.setLost}${s.setUnknown > 0 ? ` (+${s.setUnknown} unknown)` : ""}`,
    s.staleReads === 0 ? "0" : `${s.staleReads} (${seconds(s.oldestStaleMs)})`,
    `${s.lostToOlder}${s.registerMissing > 0 ? ` (+${s.registerMissing} missing)` : ""}`,
    String(s.phantomReads),
    s.minorityAcks === 0 ? "0" : `${s.minorityAcks} (${s.minorityAcksWithoutQuorum} without a replica quorum there)`,
    String(s.divergentKeys),
    s.availability.map((g) => `${g.group} ${share(g.ok, g.total)}`).join(", ") || "-",
    s.convergedAfterMsMax === undefined ? `not within ${seconds(convergeTimeoutMs)}` : seconds(s.convergedAfterMsMax),
  ];
}

/** The markdown table: one row per fault, the runs of a fault summed (maxima for times). */
export function renderTable(summaries: readonly FaultSummary[], convergeTimeoutMs: number): string {
  const lines = [TABLE_HEADER as readonly string[], TABLE_HEADER.map(() => "---"), ...summaries.map((s) => row(s, convergeTimeoutMs))];
  return lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}
