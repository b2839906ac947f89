// A short chaos run in the suite: kill -9, restart, join, graceful leave and a death (then `limedb remove`) under concurrent clients lose no acknowledged write.
import { expect, test } from "bun:test";
import { runSeed } from "../support/seeded-random.ts";
import { runChaos } from "./chaos-run.ts";

/** Long enough for every fault to land between client operations; `bun run chaos` runs for minutes. */
const DURATION_MS = 12_000;
/** Far below what a short run acknowledges even on a loaded machine: the test never passes by writing nothing. */
const ACKNOWLEDGED_MIN = 300;
const TEST_TIMEOUT_MS = 90_000;

test("under kill -9, restart, a join, a graceful leave and a death, no acknowledged write is lost and no read is stale", async () => {
  const seed = runSeed();
  console.log(`chaos seed ${seed} (SEED=${seed} replays its choices)`);
  const report = await runChaos({ durationMs: DURATION_MS, seed, log: (line) => console.log(line) });
  console.log(report.summary);
  console.log(`maybe applied: ${report.maybeWrites}, reads: ${report.reads}, settled in ${report.settleMs} ms`);
  for (const line of report.problems) console.log(`problem: ${line}`);

  expect(report.events).toHaveLength(6);
  expect(report.acknowledgedWrites).toBeGreaterThanOrEqual(ACKNOWLEDGED_MIN);
  expect(report.problems).toEqual([]);
  expect({ lost: report.lost, staleReads: report.staleReads, underReplicated: report.underReplicated, unexpected: report.unexpected }).toEqual({
    lost: 0,
    staleReads: 0,
    underReplicated: 0,
    unexpected: 0,
  });
}, TEST_TIMEOUT_MS);
