// `bun run chaos`: the chaos run for minutes (CHAOS_DURATION_MS, default three), replayable with SEED=; exits 1 on any loss.
import { runSeed } from "../support/seeded-random.ts";
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

const seed = runSeed();
console.log(`chaos seed ${seed} (SEED=${seed} replays its choices)`);
const duration = durationMs();
const report = await runChaos({ durationMs: duration, seed, cycles: Math.max(1, Math.floor(duration / CYCLE_MS)), keysPerClient: KEYS_PER_CLIENT, settleTimeoutMs: SETTLE_TIMEOUT_MS, log: (line) => console.log(line) });
console.log(`maybe applied: ${report.maybeWrites}, reads: ${report.reads}, under-replicated keys: ${report.underReplicated}, unexpected answers: ${report.unexpected}, settled in ${report.settleMs} ms`);
for (const line of report.problems) console.log(`problem: ${line}`);
console.log(report.summary);
const failed = report.lost > 0 || report.staleReads > 0 || report.underReplicated > 0 || report.unexpected > 0 || report.acknowledgedWrites === 0;
process.exit(failed ? 1 : 0);
