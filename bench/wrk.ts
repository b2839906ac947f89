// Runs wrk against a URL with a Lua script and reads its text report (requests/s, latency percentiles, errors),
// and runs any such load over several targets in rotation.
import { join } from "node:path";
import { runClient } from "./server-process.ts";

export interface WrkOptions {
  readonly url: string;
  readonly script: string;
  readonly scriptArgs: readonly string[];
  readonly seconds: number;
  readonly threads: number;
  readonly connections: number;
  /** Extra request headers, "Name: value" each (a browser's Origin, say). */
  readonly headers?: readonly string[];
}

/** One load run's outcome, from wrk or from redis-benchmark for the reference row. */
export interface LoadResult {
  readonly requestsPerS: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses outside 2xx/3xx plus socket errors; a clean run has none. */
  readonly errors: number;
  readonly command: string;
}

/** wrk stops itself after -d; this bound only catches a wrk that hangs. */
const WRK_GRACE_MS = 15_000;

export function wrkInstalled(): boolean {
  return Bun.which("wrk") !== null;
}

export function wrkArgs(options: WrkOptions): string[] {
  return [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    "--latency",
    "--timeout",
    "2s",
    ...(options.headers ?? []).flatMap((header) => ["-H", header]),
    "-s",
    options.script,
    options.url,
    "--",
    ...options.scriptArgs,
  ];
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (match === null) throw new Error(`bench: cannot read wrk duration "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

export function parseWrk(output: string): Omit<LoadResult, "command"> {
  const perS = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const total = /(\d+) requests in/.exec(output);
  const p50 = /^\s+50%\s+(\S+)$/m.exec(output);
  const p99 = /^\s+99%\s+(\S+)$/m.exec(output);
  if (perS === null || total === null || p50 === null || p99 === null) throw new Error(`bench: unexpected wrk output:\n${output}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  return {
    requestsPerS: Number(perS[1]),
    requests: Number(total[1]),
    p50Ms: durationMs(p50[1]!),
    p99Ms: durationMs(p99[1]!),
    errors: non2xx + socketErrors,
  };
}

export async function runWrk(options: WrkOptions): Promise<LoadResult> {
  const args = wrkArgs(options);
  const output = await runClient(["wrk", ...args], options.seconds * 1000 + WRK_GRACE_MS);
  return { ...parseWrk(output), command: `wrk ${args.join(" ")}` };
}

/** Several runs of one server and shape added up: mean rate and percentiles, total requests and errors. */
export function combineRuns(runs: readonly LoadResult[], shown: (text: string) => string): LoadResult {
  const mean = (pick: (r: LoadResult) => number) => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
  return {
    requestsPerS: mean((r) => r.requestsPerS),
    requests: runs.reduce((sum, r) => sum + r.requests, 0),
    p50Ms: mean((r) => r.p50Ms),
    p99Ms: mean((r) => r.p99Ms),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    command: shown(runs[0]?.command ?? ""),
  };
}

/** The latency and volume behind a rate, for a figure's detail column. */
export function wrkDetail(result: LoadResult): string {
  const errors = result.errors === 0 ? "" : `; ${result.errors} ERRORS (non-2xx or socket)`;
  return `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${result.requests} requests${errors}`;
}

/**
 * Seconds of load each target gets before anything counts. JSC compiles a hot function through three tiers, the
 * last (FTL) on a thread beside the one serving: under wrk -c64 a cluster node was still compiling its bus and
 * forwarding code 2-3 s into a load (BUN_JSC_reportFTLCompileTimes=1), and with a 1 s warm-up the forwarded GET
 * was measured during it: 89,232 forwarded GETs/s after 1 s, 96,612 after 3 s (bun run bench cluster, memory, the
 * same code, one run after the other). Every bench warms this long, so a ratio compares compiled code on both sides.
 */
export const WARMUP_S = 3;

export interface Rotation {
  /** One warm-up run per target, so the JIT has compiled the handlers before anything counts (WARMUP_S). */
  readonly warmupS: number;
  readonly rounds: number;
  readonly runS: number;
}

/**
 * Warms every target, then runs them in alternating rounds (a, b, c, a, b, c, …) and combines each
 * one's runs. On a shared machine the load from other work drifts; alternating spreads that drift
 * over every target instead of charging it to whichever ran during a busy moment.
 */
export async function measureInRotation<T>(
  targets: readonly T[],
  run: (target: T, seconds: number) => Promise<LoadResult>,
  shown: (target: T) => (text: string) => string,
  rotation: Rotation,
): Promise<LoadResult[]> {
  for (const target of targets) await run(target, rotation.warmupS);
  const runs = targets.map((): LoadResult[] => []);
  for (let round = 0; round < rotation.rounds; round++) {
    for (const [i, target] of targets.entries()) runs[i]!.push(await run(target, rotation.runS));
  }
  return runs.map((r, i) => combineRuns(r, shown(targets[i]!)));
}

/** wrk's load shape in every HTTP figure: two threads (the machine's cores) and 64 connections. */
export const WRK_THREADS = 2;
export const WRK_CONNECTIONS = 64;
/** The key-list script of the cluster and replication loads. */
export const KEYS_SCRIPT = join(import.meta.dir, "wrk-keys.lua");
/** The value every load writes: small, so the figures measure the request path, not copying. */
export const LOAD_VALUE = "v".repeat(64);
export type LoadShape = "get" | "set";
export type LoadBackend = "memory" | "sqlite";
