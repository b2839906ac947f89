// The fault harness in the suite, briefly: its partitions really cut, its pauses really pause, its skews really
// skew, and a short run of two faults yields a checked, non-empty history and the report table. The findings
// are asserted to be zero unless FAULT_ASSERT_CONSISTENCY=0 (see fault-run.ts).
import { expect, test } from "bun:test";
import { readState, waitUntil } from "../support/cluster.ts";
import { runSeed } from "../support/seeded-random.ts";
import { DEFAULT_TIMING, FaultCluster } from "./fault-cluster.ts";
import { ASSERT_CONSISTENCY, runFaults } from "./fault-run.ts";
import { cutBetween, healAll, installChain, listRules, removeChain } from "./firewall.ts";
import { CLOCK_SETTLE_MS, isolationUnsupported, lockMachine, reachableAs, type FaultNode } from "./isolation.ts";
import { renderTable, summarize } from "./report.ts";

const unsupported = isolationUnsupported();
if (unsupported !== undefined) console.log(`fault tests skipped: ${unsupported}`);

/** A probe that gets no answer within this is cut off; an open link answers in milliseconds. */
const PROBE_TIMEOUT_MS = 1_500;
/** Bound on a node on the minority side marking the majority stale: a few gossip rounds past stale-after. */
const CUT_SEEN_MS = DEFAULT_TIMING.staleAfterMs + 5 * DEFAULT_TIMING.intervalMs;
/** A paused node's health check gets no answer within this. */
const PAUSED_PROBE_MS = 1_000;
/** SIGSTOP takes effect when the kernel next handles the process, not at kill(): its state turns T within this. */
const STOPPED_SEEN_MS = 2_000;
const SKEW_MS = 30_000;
/** How far the skewed node's reported time may be from this machine's plus the skew (request time, rounding). */
const SKEW_TOLERANCE_MS = 2_000;
const MECHANICS_TIMEOUT_MS = 120_000;
/** The short run: two faults of six seconds, each with start, warm-up, healing and convergence around it. */
const SHORT_FAULTS = ["partition", "pause"];
const SHORT_WINDOW_MS = 6_000;
const SHORT_CONVERGE_TIMEOUT_MS = 20_000;
const SHORT_RUN_TIMEOUT_MS = 150_000;
/** Far below what six seconds of seven clients do: the check never passes over a history that is nearly empty. */
const OPERATIONS_MIN = 200;

function health(node: FaultNode, timeoutMs = PROBE_TIMEOUT_MS): Promise<Response> {
  return fetch(`${node.url}/api/v1/health`, { signal: AbortSignal.timeout(timeoutMs) });
}

test.skipIf(unsupported !== undefined)(
  "a partition cuts one side off from the other (root still reaches all), a pause stops the process, a skew moves its clock",
  async () => {
    const unlock = lockMachine();
    try {
      installChain();
      await using cluster = await FaultCluster.start();
      await cluster.waitForAgreement();
      const [a, b, c, d, e] = cluster.nodes as [FaultNode, FaultNode, FaultNode, FaultNode, FaultNode];

      cutBetween([a, b, c].map((n) => n.identity), [d, e].map((n) => n.identity));
      expect(listRules()).toHaveLength(12);
      expect(await reachableAs(d.identity, `${a.url}/api/v1/health`, PROBE_TIMEOUT_MS)).toBe(false);
      expect(await reachableAs(a.identity, `${e.url}/api/v1/health`, PROBE_TIMEOUT_MS)).toBe(false);
      expect(await reachableAs(d.identity, `${e.url}/api/v1/health`, PROBE_TIMEOUT_MS)).toBe(true);
      expect(await reachableAs(a.identity, `${b.url}/api/v1/health`, PROBE_TIMEOUT_MS)).toBe(true);
      for (const node of cluster.nodes) expect((await health(node)).status).toBe(200);
      const majority = [a.url, b.url, c.url];
      await waitUntil(
        "the minority node d sees every majority node stale or dead",
        () => readState(d.url),
        (state) => state.members.filter((m) => majority.includes(m.url)).every((m) => m.state !== "active"),
        CUT_SEEN_MS,
      );

      healAll();
      expect(listRules()).toEqual([]);
      expect(await reachableAs(d.identity, `${a.url}/api/v1/health`, PROBE_TIMEOUT_MS)).toBe(true);
      await cluster.waitForAgreement();

      a.pause();
      await waitUntil("node a stopped", () => a.processState(), (state) => state === "T", STOPPED_SEEN_MS);
      await expect(health(a, PAUSED_PROBE_MS)).rejects.toThrow();
      a.resume();
      expect((await health(a)).status).toBe(200);

      await b.setClockOffset(SKEW_MS);
      const skewOf = async () => Date.parse(((await (await health(b)).json()) as { timestamp: string }).timestamp) - Date.now();
      await waitUntil("node b reports a time 30 s ahead", skewOf, (skewMs) => Math.abs(skewMs - SKEW_MS) < SKEW_TOLERANCE_MS, CLOCK_SETTLE_MS + SKEW_TOLERANCE_MS);
    } finally {
      removeChain();
      unlock();
    }
  },
  MECHANICS_TIMEOUT_MS,
);

test.skipIf(unsupported !== undefined)(
  "a short fault run records and checks a non-empty history of every fault and prints the table",
  async () => {
    const seed = runSeed();
    console.log(`fault seed ${seed} (SEED=${seed} replays its choices)`);
    const results = await runFaults({ faults: SHORT_FAULTS, windowMs: SHORT_WINDOW_MS, runs: 1, seed, convergeTimeoutMs: SHORT_CONVERGE_TIMEOUT_MS, log: (line) => console.log(line) });
    console.log(`\n${renderTable(summarize(results), SHORT_CONVERGE_TIMEOUT_MS)}\n`);

    expect(results.map((r) => [r.fault, r.error])).toEqual(SHORT_FAULTS.map((fault) => [fault, undefined]));
    for (const { history, check } of results) {
      expect(check.operations).toBeGreaterThanOrEqual(OPERATIONS_MIN);
      expect(check.acknowledgedWrites).toBeGreaterThan(0);
      expect(check.okReads).toBeGreaterThan(0);
      expect(history.windows.length).toBeGreaterThan(0);
      expect(history.operations.some((op) => op.phase === "final")).toBe(true);
      // Every written key was listed by a node after healing, so "no divergent key" means something.
      expect(new Set(history.replicas.map((s) => s.key))).toEqual(new Set(history.operations.filter((op) => op.kind === "write").map((op) => op.key)));
      expect(check.availability.reduce((n, g) => n + g.total, 0)).toBeGreaterThan(0);
    }
    const partition = results.find((r) => r.fault === "partition")!;
    expect(partition.history.windows[0]!.groups.map((g) => [g.name, g.nodes.length, g.minority])).toEqual([
      ["majority", 3, false],
      ["minority", 2, true],
    ]);

    if (ASSERT_CONSISTENCY) {
      for (const { check, convergedAfterMs } of results) {
        expect({ stale: check.staleReads, phantom: check.phantomReads, lostToOlder: check.lostToOlder, missing: check.registerMissing, setLost: check.setLost, minority: check.minorityAcksWithoutQuorum, divergent: check.divergentKeys }).toEqual({
          stale: 0,
          phantom: 0,
          lostToOlder: 0,
          missing: 0,
          setLost: 0,
          minority: 0,
          divergent: 0,
        });
        expect(convergedAfterMs).toBeDefined();
      }
    }
  },
  SHORT_RUN_TIMEOUT_MS,
);
