// `bun test/fault/fault-main.ts [--seconds N] [--runs M] [--faults a,b,...]`: runs the fault suite and prints
// its table; replayable with SEED=. Needs root, iptables and setpriv (see isolation.ts). Exits 1 when a run
// could not complete, and also on any finding when --strict is given (for the day the nodes keep the promise).
import { runSeed } from "../support/seeded-random.ts";
import { CONVERGE_TIMEOUT_MS, runFaults } from "./fault-run.ts";
import { isolationUnsupported } from "./isolation.ts";
import { FAULT_NAMES, parseFaults } from "./nemesis.ts";
import { renderTable, summarize } from "./report.ts";

const SECONDS_DEFAULT = 30;
const RUNS_DEFAULT = 1;
/** Bounds on the options, so a typo cannot start a run of days. */
const SECONDS_MAX = 600;
const RUNS_MAX = 20;

export interface FaultMainOptions {
  readonly seconds: number;
  readonly runs: number;
  readonly faults: string[];
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
  let strict = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--seconds") seconds = integer("--seconds", argv[++i], SECONDS_MAX);
    else if (arg === "--runs") runs = integer("--runs", argv[++i], RUNS_MAX);
    else if (arg === "--faults") faults = parseFaults(argv[++i] ?? "");
    else if (arg === "--strict") strict = true;
    else throw new Error(`unknown argument "${arg}"; usage: fault-main.ts [--seconds N] [--runs M] [--faults ${FAULT_NAMES.join(",")}|a-h] [--strict]`);
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
  const findings = summaries.reduce((n, s) => n + s.setLost + s.staleReads + s.lostToOlder + s.registerMissing + s.phantomReads + s.minorityAcksWithoutQuorum + s.divergentKeys, 0);
  return failedRuns > 0 || (options.strict && findings > 0) ? 1 : 0;
}

if (import.meta.main) process.exit(await faultMain(process.argv.slice(2)));
