// The fault runner: for each fault and run, a fresh isolated cluster under the clients, the fault for its
// window, healing, the wait for convergence, reads of everything through every node, and the checker's
// verdict. iptables is healed and every node killed whatever happens, an interrupt included.
import { check, type CheckResult } from "./checker.ts";
import { snapshotKeys, waitForConvergence } from "./convergence.ts";
import { FaultCluster, removeLeftDirs, WRITE_QUORUM } from "./fault-cluster.ts";
import { installChain, removeChain } from "./firewall.ts";
import type { History, Operation } from "./history.ts";
import { killAllStarted, lockMachine } from "./isolation.ts";
import { FAULTS } from "./nemesis.ts";
import { finalReads, runClients, writtenKeys, type WorkloadContext } from "./workload.ts";
import { seededRandom } from "../support/seeded-random.ts";

/** The clients run this long on a healthy cluster before the fault, so every node has served some. */
export const WARMUP_MS = 2_000;
/** The clients keep going this long after healing: the cluster is asked to serve while it recovers. */
export const AFTER_HEAL_MS = 3_000;
/** Bound, from healing, on the nodes agreeing again and every key's replicas holding one record. */
export const CONVERGE_TIMEOUT_MS = 30_000;

/**
 * Whether the short suite requires zeros in every correctness column (stale, phantom, lost, lost to an older
 * write, minority acknowledgements without a quorum there, divergence) and convergence: the nodes keep the
 * promise "W + R > RF reads the last acknowledged write" (strict quorums). FAULT_ASSERT_CONSISTENCY=0 only prints
 * the table, to measure code that does not (the code before strict quorums showed thousands of stale reads).
 */
export const ASSERT_CONSISTENCY = process.env.FAULT_ASSERT_CONSISTENCY !== "0";

export interface FaultRunOptions {
  readonly faults: readonly string[];
  readonly windowMs: number;
  readonly runs: number;
  readonly seed: number;
  readonly convergeTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface RunResult {
  readonly fault: string;
  readonly run: number;
  readonly check: CheckResult;
  /** From healing to agreement and one record per key; undefined when CONVERGE_TIMEOUT_MS ran out first. */
  readonly convergedAfterMs: number | undefined;
  readonly history: History;
  /** The harness's own failure (a node that would not start, say), when the run could not complete. */
  readonly error?: string;
}

/** Heals and kills what a run left behind; registered for SIGINT and SIGTERM while faults run. */
function emergencyCleanup(): void {
  removeChain();
  killAllStarted();
  removeLeftDirs();
}

async function runOne(fault: string, run: number, options: FaultRunOptions): Promise<RunResult> {
  const log = options.log ?? (() => {});
  const apply = FAULTS[fault];
  if (apply === undefined) throw new Error(`unknown fault ${fault}`);
  const seed = (options.seed + run * 7919 + [...fault].reduce((sum, c) => sum + c.charCodeAt(0), 0)) >>> 0;
  // Apart, so the nemesis's choices replay exactly from the seed whatever the clients' timing did to theirs.
  const nemesisRandom = seededRandom(seed);
  const clientRandom = seededRandom(seed + 1);
  const now = () => performance.now();
  await using cluster = await FaultCluster.start();
  await cluster.waitForAgreement();
  const operations: Operation[] = [];
  const context: WorkloadContext = { runId: `${fault.replace(/[^a-z0-9]/gi, "")}${run}-${seed.toString(36)}`, nodes: cluster.urls, random: clientRandom, now, history: operations };
  let stopClients = () => {};
  const clients = runClients(context, new Promise<void>((resolve) => (stopClients = resolve)));
  let windows: History["windows"] = [];
  let healedMs = now();
  try {
    await Bun.sleep(WARMUP_MS);
    log(`${fault} run ${run + 1}: fault on for ${options.windowMs} ms (seed ${seed})`);
    windows = await apply({ cluster, random: nemesisRandom, now, log: (line) => log(`  ${line}`) }, options.windowMs);
    healedMs = now();
    await Bun.sleep(AFTER_HEAL_MS);
  } finally {
    stopClients();
    await clients;
  }
  const keys = writtenKeys(operations);
  const convergence = await waitForConvergence(cluster, keys, now, healedMs + (options.convergeTimeoutMs ?? CONVERGE_TIMEOUT_MS));
  if (convergence.atMs === undefined) log(`  not converged: ${convergence.pending}`);
  const replicas = await snapshotKeys(cluster.urls, keys);
  await finalReads(context);
  const history: History = { operations, windows, replicas };
  const result = check(history, { writeQuorum: WRITE_QUORUM });
  const convergedAfterMs = convergence.atMs === undefined ? undefined : Math.round(convergence.atMs - healedMs);
  log(`${fault} run ${run + 1}: ${result.operations} operations, ${result.acknowledgedWrites} acknowledged writes, ${result.staleReads} stale reads, converged ${convergedAfterMs === undefined ? "not within the bound" : `${convergedAfterMs} ms after healing`}`);
  for (const example of result.examples) log(`  finding: ${example}`);
  return { fault, run, check: result, convergedAfterMs, history };
}

/** Runs each fault `runs` times, one after the other; a run the harness could not complete is reported with its error. */
export async function runFaults(options: FaultRunOptions): Promise<RunResult[]> {
  const results: RunResult[] = [];
  const onSignal = () => {
    emergencyCleanup();
    unlock();
    process.exit(130);
  };
  const unlock = lockMachine();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    installChain();
    for (const fault of options.faults) {
      for (let run = 0; run < options.runs; run++) {
        try {
          results.push(await runOne(fault, run, options));
        } catch (error) {
          emergencyCleanup();
          installChain();
          options.log?.(`${fault} run ${run + 1} failed: ${String(error).slice(0, 2000)}`);
          results.push({ fault, run, check: check({ operations: [], windows: [], replicas: [] }, { writeQuorum: WRITE_QUORUM }), convergedAfterMs: undefined, history: { operations: [], windows: [], replicas: [] }, error: String(error) });
        }
      }
    }
  } finally {
    removeChain();
    unlock();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return results;
}
