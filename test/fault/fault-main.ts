// `bun test/fault/fault-main.ts [--seconds N] [--runs M] [--faults a,b,...] [--lenient]`: runs the fault suite and
// prints its table; replayable with SEED=. Needs root, iptables and setpriv (see isolation.ts). Exits 1 when a run
// could not complete, on any finding (a lost or stale acknowledged write, a phantom, keys still apart) and when a
// fault did not converge after healing; --lenient only prints them (for a look at a build known to break them).
import { runSeed } from "../support/seeded-random.ts";
import { CONVERGE_TIMEOUT_MS, runFaults } from "./fault-run.ts";
import { isolationUnsupported } from "./isolation.ts";
import { FAULT_NAMES, parseFaults } from "./nemesis.ts";
import { renderTable, summarize, type FaultSummary } from "./report.ts";

const SECONDS_DEFAULT = 30;
const RUNS_DEFAULT = 1;
/** Bounds on the options, so a typo cannot start a run of days. */
const SECONDS_MAX = 600;
const RUNS_MAX = 20;

export interface FaultMainOptions {
  readonly seconds: number;
  readonly runs: number;
  readonly faults: string[];
  /** Whether a finding fails the run (the default); --lenient turns it off. */
  readonly strict: boolean;
}

function integer(name: string, text: string | undefined, max: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new Error(`${name} must be an integer from 1 to ${max}, got "${text}"`);
  return value;
}

export function parseArgs(argv: readonly string[]): FaultMainOptions {
  let seconds = SECONDS_DEFAULT;
  let runs = RUNS_DEFAULT;
  let faults = FAULT_NAMES;
  let strict = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--seconds") seconds = integer("--seconds", argv[++i], SECONDS_MAX);
    else if (arg === "--runs") runs = integer("--runs", argv[++i], RUNS_MAX);
    else if (arg === "--faults") faults = parseFaults(argv[++i] ?? "");
    // --strict was needed for this before it became the default; it is still taken.
    else if (arg === "--strict") strict = true;
    else if (arg === "--lenient") strict = false;
    else throw new Error(`unknown argument "${arg}"; usage: fault-main.ts [--seconds N] [--runs M] [--faults ${FAULT_NAMES.join(",")}|a-h] [--lenient]`);
  }
  return { seconds, runs, faults, strict };
}

/** Runs the suite, prints the table, and gives the exit code. */
export async function faultMain(argv: readonly string[]): Promise<number> {
  const options = parseArgs(argv);
  const unsupported = isolationUnsupported();
  if (unsupported !== undefined) {
    console.log(`fault suite skipped: ${unsupported}`);
    return 0;
  }
  const seed = runSeed();
  console.log(`fault seed ${seed} (SEED=${seed} replays the nemesis's and clients' choices); faults: ${options.faults.join(", ")}; ${options.seconds} s each, ${options.runs} run(s)`);
  const results = await runFaults({ faults: options.faults, windowMs: options.seconds * 1000, runs: options.runs, seed, log: (line) => console.log(line) });
  const summaries = summarize(results);
  console.log(`\n${renderTable(summaries, CONVERGE_TIMEOUT_MS)}\n`);
  const failedRuns = results.filter((r) => r.error !== undefined).length;
  const found = findingsOf(summaries);
  if (found > 0) console.log(`${found} finding(s)${options.strict ? "" : " (--lenient: not failing the run)"}`);
  return failedRuns > 0 || (options.strict && found > 0) ? 1 : 0;
}

/**
 * What breaks the promise, summed over the faults: acknowledged writes lost or read stale, phantoms, minority acks
 * without a quorum, keys apart after healing, and one for each fault whose completed runs did not all converge.
 */
export function findingsOf(summaries: readonly FaultSummary[]): number {
  return summaries.reduce((n, s) => {
    const unconverged = s.runs > s.failedRuns && s.convergedAfterMsMax === undefined ? 1 : 0;
    return n + s.setLost + s.staleReads + s.lostToOlder + s.registerMissing + s.phantomReads + s.minorityAcksWithoutQuorum + s.divergentKeys + unconverged;
  }, 0);
}

if (import.meta.main) process.exit(await faultMain(process.argv.slice(2)));
