// `bun run chaos`: the chaos run for minutes (CHAOS_DURATION_MS, default three), replayable with SEED=, then the
// fault suite (test/fault/fault-main.ts; skipped with a line when the machine lacks root or iptables). Exits 1 on
// any loss in the chaos run or a fault run that could not complete. `--only chaos` or `--only faults` runs one
// of the two; every other argument goes to the fault suite (`bun run chaos --only faults --seconds 10 --faults a,d`).
import { runSeed } from "../support/seeded-random.ts";
import { faultMain, parseArgs } from "../fault/fault-main.ts";
import { runChaos } from "./chaos-run.ts";

const DURATION_MS_DEFAULT = 180_000;
/** A long run writes more keys and gives the cluster longer to settle after it. */
const KEYS_PER_CLIENT = 100;
const SETTLE_TIMEOUT_MS = 60_000;
/** One cycle of faults (a restart, a join, a leave, a death) per minute of run. */
const CYCLE_MS = 60_000;

function durationMs(): number {
  const given = process.env.CHAOS_DURATION_MS;
  if (given === undefined || given === "") return DURATION_MS_DEFAULT;
  const value = Number(given);
  if (!Number.isSafeInteger(value) || value < 1000) throw new Error(`CHAOS_DURATION_MS must be an integer of at least 1000, got "${given}"`);
  return value;
}

/** Which parts to run, and the arguments left for the fault suite. */
function parseOnly(argv: readonly string[]): { chaos: boolean; faults: boolean; rest: string[] } {
  const at = argv.indexOf("--only");
  if (at === -1) return { chaos: true, faults: true, rest: [...argv] };
  const which = argv[at + 1];
  if (which !== "chaos" && which !== "faults") throw new Error(`--only takes chaos or faults, got "${which}"`);
  return { chaos: which === "chaos", faults: which === "faults", rest: argv.filter((_, i) => i !== at && i !== at + 1) };
}

async function chaosMain(): Promise<number> {
  const seed = runSeed();
  console.log(`chaos seed ${seed} (SEED=${seed} replays its choices)`);
  const duration = durationMs();
  const report = await runChaos({ durationMs: duration, seed, cycles: Math.max(1, Math.floor(duration / CYCLE_MS)), keysPerClient: KEYS_PER_CLIENT, settleTimeoutMs: SETTLE_TIMEOUT_MS, log: (line) => console.log(line) });
  console.log(`maybe applied: ${report.maybeWrites}, reads: ${report.reads}, under-replicated keys: ${report.underReplicated}, unexpected answers: ${report.unexpected}, settled in ${report.settleMs} ms`);
  for (const line of report.problems) console.log(`problem: ${line}`);
  console.log(report.summary);
  const failed = report.lost > 0 || report.staleReads > 0 || report.underReplicated > 0 || report.unexpected > 0 || report.acknowledgedWrites === 0;
  return failed ? 1 : 0;
}

const only = parseOnly(process.argv.slice(2));
// The fault suite's arguments are checked before the chaos run, so a typo does not wait three minutes to show.
parseArgs(only.rest);
const chaosExit = only.chaos ? await chaosMain() : 0;
const faultExit = only.faults ? await faultMain(only.rest) : 0;
process.exit(Math.max(chaosExit, faultExit));
