// The checker of fault runs: from a recorded history alone (no I/O) it finds reads older than the last
// acknowledged write, values nobody wrote, acknowledged writes lost, replicas left apart, writes that a
// minority side acknowledged, and the share of operations answered while faulted.
import type { FaultWindow, History, Operation, ReadOperation, ReplicaSnapshot, WriteOperation } from "./history.ts";

/** Findings quoted in words per run; the counts cover them all. */
export const EXAMPLES_MAX = 10;

export interface GroupAvailability {
  readonly group: string;
  /** Operations of the run phase invoked inside a fault window, sent to a node of this group. */
  readonly total: number;
  readonly ok: number;
}

export interface CheckResult {
  readonly operations: number;
  readonly acknowledgedWrites: number;
  /** Reads (run phase, register workload) answered ok, which are the ones that can be stale. */
  readonly okReads: number;
  /** Reads that returned something strictly older than the last acknowledged write finished before they began. */
  readonly staleReads: number;
  /** Of those, the longest time by which the newer acknowledged write had been finished when the read began. */
  readonly oldestStaleMs: number;
  /** Reads (any workload, any phase) that returned a value no write of that key carried. */
  readonly phantomReads: number;
  /** Register keys whose value after healing is from a write finished before another acknowledged write began. */
  readonly lostToOlder: number;
  /** Register keys with an acknowledged write that read "not found" after healing. */
  readonly registerMissing: number;
  /** Set keys acknowledged but missing (or wrong) through some node after healing. */
  readonly setLost: number;
  /** Set keys acknowledged whose final reads all failed, so their fate is unknown. */
  readonly setUnknown: number;
  /** Writes acknowledged by a node of a minority group, invoked and completed inside that fault window. */
  readonly minorityAcks: number;
  /**
   * Of those, the ones whose side held fewer than `writeQuorum` of the key's replicas (as listed after
   * healing): a strict quorum could not have acknowledged them. The others may be fine: W=2 of RF=3 can be
   * met by two replicas that happen to be on the minority side.
   */
  readonly minorityAcksWithoutQuorum: number;
  /** Keys whose replicas hold different records (or did not all answer) after the convergence wait. */
  readonly divergentKeys: number;
  readonly availability: readonly GroupAvailability[];
  readonly examples: readonly string[];
}

function isWrite(op: Operation): op is WriteOperation {
  return op.kind === "write";
}

/** A read that got an answer: a value, or null for "not found". */
export type AnsweredRead = ReadOperation & { readonly seen: string | null };

function isOkRead(op: Operation): op is AnsweredRead {
  return op.kind === "read" && op.outcome === "ok" && op.seen !== undefined;
}

/** Every operation of each key, so each check looks at one key's writes only. */
function byKey(operations: readonly Operation[]): Map<string, Operation[]> {
  const keys = new Map<string, Operation[]>();
  for (const op of operations) {
    const list = keys.get(op.key);
    if (list === undefined) keys.set(op.key, [op]);
    else list.push(op);
  }
  return keys;
}

/** How a read compares with the writes of its key. */
type Verdict = { kind: "fresh" } | { kind: "phantom" } | { kind: "stale"; byMs: number; newer: WriteOperation };

/**
 * A read is stale when an acknowledged write W finished before it began and what it returned is older
 * than W for sure: "not found", or the value of a write that was acknowledged before W was invoked. A value
 * whose write was not acknowledged may have taken effect at any time after its invocation, so it is never
 * stale by this test. `byMs` is how long before the read the earliest such W had finished.
 */
export function judgeRead(read: AnsweredRead, writes: readonly WriteOperation[]): Verdict {
  const finished = writes.filter((w) => w.outcome === "ok" && w.completedMs < read.invokedMs);
  let newer: readonly WriteOperation[];
  if (read.seen === null) {
    newer = finished;
  } else {
    const source = writes.find((w) => w.value === read.seen);
    if (source === undefined || source.outcome === "fail") return { kind: "phantom" };
    newer = source.outcome === "ok" ? finished.filter((w) => source.completedMs < w.invokedMs) : [];
  }
  if (newer.length === 0) return { kind: "fresh" };
  const first = newer.reduce((a, b) => (b.completedMs < a.completedMs ? b : a));
  return { kind: "stale", byMs: read.invokedMs - first.completedMs, newer: first };
}

interface KeyFindings {
  stale: number;
  oldestStaleMs: number;
  phantoms: number;
  lostToOlder: boolean;
  registerMissing: boolean;
  setLost: boolean;
  setUnknown: boolean;
  examples: string[];
}

function describe(read: ReadOperation, verdict: Verdict): string {
  const seen = read.seen === null ? "not found" : JSON.stringify(read.seen);
  if (verdict.kind === "phantom") return `${read.phase} read of ${read.key} via ${read.node} at ${Math.round(read.invokedMs)} ms returned ${seen}, which no write carried`;
  if (verdict.kind === "stale")
    return `${read.phase} read of ${read.key} via ${read.node} at ${Math.round(read.invokedMs)} ms returned ${seen}, older than ${JSON.stringify(verdict.newer.value)} acknowledged ${Math.round(verdict.byMs)} ms before`;
  return `${read.phase} read of ${read.key}: fresh`;
}

/** Judges every read of one key: stale and phantom reads while running, the key's fate after healing. */
function checkKey(ops: readonly Operation[]): KeyFindings {
  const writes = ops.filter(isWrite);
  const found: KeyFindings = { stale: 0, oldestStaleMs: 0, phantoms: 0, lostToOlder: false, registerMissing: false, setLost: false, setUnknown: false, examples: [] };
  const finals = ops.filter((op) => op.kind === "read" && op.phase === "final");
  for (const read of ops.filter(isOkRead)) {
    const verdict = judgeRead(read, writes);
    if (verdict.kind === "fresh") continue;
    found.examples.push(describe(read, verdict));
    if (verdict.kind === "phantom") {
      found.phantoms++;
    } else if (read.workload === "set" && read.phase === "final") {
      found.setLost = true;
    } else if (read.phase === "final") {
      if (read.seen === null) found.registerMissing = true;
      else found.lostToOlder = true;
    } else if (read.workload === "register") {
      found.stale++;
      found.oldestStaleMs = Math.max(found.oldestStaleMs, verdict.byMs);
    }
  }
  const acknowledged = writes.some((w) => w.outcome === "ok");
  const setKey = writes.some((w) => w.workload === "set");
  if (setKey && acknowledged && finals.length > 0 && finals.every((op) => op.outcome !== "ok")) found.setUnknown = true;
  if (setKey && acknowledged && finals.length === 0) found.setUnknown = true;
  return found;
}

/** The window an operation ran in and the group of its node there, when it was invoked while a fault was in force. */
function groupOf(op: Operation, windows: readonly FaultWindow[]): { window: FaultWindow; group: string; minority: boolean } | undefined {
  for (const window of windows) {
    if (op.invokedMs < window.startMs || op.invokedMs >= window.endMs) continue;
    const group = window.groups.find((g) => g.nodes.includes(op.node));
    return { window, group: group?.name ?? "unlisted", minority: group?.minority ?? false };
  }
  return undefined;
}

function availabilityOf(operations: readonly Operation[], windows: readonly FaultWindow[]): GroupAvailability[] {
  const groups = new Map<string, { total: number; ok: number }>();
  for (const window of windows) for (const group of window.groups) if (!groups.has(group.name)) groups.set(group.name, { total: 0, ok: 0 });
  for (const op of operations) {
    if (op.phase !== "run") continue;
    const where = groupOf(op, windows);
    if (where === undefined) continue;
    const counts = groups.get(where.group) ?? { total: 0, ok: 0 };
    counts.total++;
    if (op.outcome === "ok") counts.ok++;
    groups.set(where.group, counts);
  }
  return [...groups].map(([group, counts]) => ({ group, ...counts }));
}

function minorityAcksOf(history: History, writeQuorum: number, examples: string[]): { all: number; withoutQuorum: number } {
  const homes = new Map(history.replicas.map((snapshot) => [snapshot.key, snapshot.replicas.map((r) => r.node)]));
  let all = 0;
  let withoutQuorum = 0;
  for (const op of history.operations) {
    if (op.kind !== "write" || op.outcome !== "ok") continue;
    const where = groupOf(op, history.windows);
    if (where === undefined || !where.minority || op.completedMs > where.window.endMs) continue;
    all++;
    const side = where.window.groups.find((g) => g.name === where.group)?.nodes ?? [];
    const home = homes.get(op.key);
    // Unknown placement counts against the write: the checker does not assume what it cannot see.
    const quorumThere = home !== undefined && home.length > 0 && home.filter((node) => side.includes(node)).length >= writeQuorum;
    if (quorumThere) continue;
    withoutQuorum++;
    examples.push(`write of ${op.key} acknowledged by ${op.node} on the minority side "${where.group}" of ${where.window.fault}, which held fewer than ${writeQuorum} of its replicas`);
  }
  return { all, withoutQuorum };
}

/** A key's replicas disagree when one did not answer or their records (holding, version, tombstone) differ. */
export function isDivergent(snapshot: ReplicaSnapshot): boolean {
  if (snapshot.error !== undefined || snapshot.replicas.length === 0) return true;
  const shape = (r: ReplicaSnapshot["replicas"][number]) => JSON.stringify([r.holds, r.version, r.tombstone]);
  const first = snapshot.replicas[0]!;
  return snapshot.replicas.some((r) => r.error !== undefined || shape(r) !== shape(first));
}

/** What the checker must know of the cluster: the write quorum, for acknowledgements on a minority side. */
export interface CheckOptions {
  readonly writeQuorum: number;
}

export function check(history: History, options: CheckOptions): CheckResult {
  const readExamples: string[] = [];
  const otherExamples: string[] = [];
  let stale = 0;
  let oldestStaleMs = 0;
  let phantoms = 0;
  let lostToOlder = 0;
  let registerMissing = 0;
  let setLost = 0;
  let setUnknown = 0;
  for (const ops of byKey(history.operations).values()) {
    const found = checkKey(ops);
    stale += found.stale;
    oldestStaleMs = Math.max(oldestStaleMs, found.oldestStaleMs);
    phantoms += found.phantoms;
    if (found.lostToOlder) lostToOlder++;
    if (found.registerMissing) registerMissing++;
    if (found.setLost) setLost++;
    if (found.setUnknown) setUnknown++;
    readExamples.push(...found.examples.slice(0, EXAMPLES_MAX));
  }
  const minority = minorityAcksOf(history, options.writeQuorum, otherExamples);
  const divergent = history.replicas.filter(isDivergent);
  for (const snapshot of divergent) otherExamples.push(`replicas of ${snapshot.key} differ: ${JSON.stringify(snapshot.error ?? snapshot.replicas)}`);
  return {
    operations: history.operations.length,
    acknowledgedWrites: history.operations.filter((op) => op.kind === "write" && op.outcome === "ok").length,
    okReads: history.operations.filter((op) => op.kind === "read" && op.phase === "run" && op.outcome === "ok").length,
    staleReads: stale,
    oldestStaleMs: Math.round(oldestStaleMs),
    phantomReads: phantoms,
    lostToOlder,
    registerMissing,
    setLost,
    setUnknown,
    minorityAcks: minority.all,
    minorityAcksWithoutQuorum: minority.withoutQuorum,
    divergentKeys: divergent.length,
    availability: availabilityOf(history.operations, history.windows),
    // Half of the quotes for reads, half for the rest, so one kind of finding cannot hide the others.
    examples: [...readExamples.slice(0, EXAMPLES_MAX / 2), ...otherExamples.slice(0, EXAMPLES_MAX / 2)],
  };
}
