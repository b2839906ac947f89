// The redis reference of the HTTP part: a throwaway redis-server on 127.0.0.1, loaded by redis-benchmark at wrk's concurrency.
import { RedisClient } from "bun";
import { tempDir } from "./cleanup.ts";
import { freePort, runClient, spawnServer } from "./server-process.ts";
import type { LoadResult, LoadShape } from "./wrk.ts";

/** The same concurrency as the wrk runs, and two client threads like wrk's -t2. */
const CLIENTS = 64;
const THREADS = 2;
/** Values as long as the HTTP loads' (64 bytes). */
const VALUE_BYTES = 64;
/** Key spaces as in the HTTP loads: GETs over 1,000 preloaded keys, SETs over 10,000. */
const KEYS: Record<LoadShape, number> = { get: 1_000, set: 10_000 };
/**
 * redis-benchmark runs a request count, not a time: the count is the last run's rate times the time
 * asked for. The first run (the warm-up) has no rate yet and assumes this one.
 */
const FIRST_RATE_PER_S = 20_000;
const REQUESTS_MIN = 1_000;
const REQUESTS_MAX = 2_000_000;
/** redis-benchmark ends after its count; this bound only catches one that hangs or a rate that collapsed. */
const GRACE_MS = 15_000;
const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 50;
const CONNECT_TIMEOUT_MS = 1_000;

export function redisInstalled(): boolean {
  return Bun.which("redis-server") !== null && Bun.which("redis-benchmark") !== null;
}

let version: string | undefined;

/** "7.0.15" from `redis-server --version` (asked once), for the reference rows and the machine section. */
export function redisVersion(): string | undefined {
  if (version === undefined && Bun.which("redis-server") !== null) {
    version = /v=(\S+)/.exec(Bun.spawnSync(["redis-server", "--version"]).stdout.toString())?.[1];
  }
  return version;
}

export interface RedisReference extends RespLoad {
  readonly port: number;
  /** The command lines, with the port and temp dir as placeholders, for the README. */
  readonly commands: readonly string[];
}

/** redis-benchmark's key for __rand_int__ = n: "key:" and 12 digits. */
const benchmarkKey = (n: number) => `key:${String(n).padStart(12, "0")}`;

/** Connects once redis answers, then writes the GET keys in one MSET, so every GET finds its key as in the HTTP loads. */
async function preloadWhenReady(url: string, child: Bun.Subprocess): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bench: redis-server exited with ${child.exitCode} before answering`);
    try {
      await preloadGetKeys(url);
      return;
    } catch (error) {
      if (performance.now() > deadline) throw new Error(`bench: redis-server did not answer within ${READY_TIMEOUT_MS} ms: ${String(error)}`);
    }
    await Bun.sleep(READY_POLL_MS);
  }
}

/** Reads redis-benchmark's --csv report; versions before 7 print no latency columns, which read as NaN. */
export function parseRedisCsv(output: string): Omit<LoadResult, "command" | "requests"> {
  const rows = output
    .trim()
    .split("\n")
    .map((line) => line.split(",").map((cell) => cell.replaceAll('"', "")));
  const [header, values] = [rows[0] ?? [], rows[rows.length - 1] ?? []];
  const column = (name: string) => {
    const i = header.indexOf(name);
    return i < 0 || rows.length < 2 ? Number.NaN : Number(values[i]);
  };
  const requestsPerS = column("rps");
  if (Number.isNaN(requestsPerS)) throw new Error(`bench: unexpected redis-benchmark output:\n${output}`);
  return { requestsPerS, p50Ms: column("p50_latency_ms"), p99Ms: column("p99_latency_ms"), errors: 0 };
}

function benchmarkArgs(port: number | string, shape: LoadShape, requests: number | string, pipeline = 1): string[] {
  return [
    "redis-benchmark", "-h", "127.0.0.1", "-p", String(port), "-c", String(CLIENTS), "--threads", String(THREADS), "-n", String(requests), "-d", String(VALUE_BYTES), "-r", String(KEYS[shape]),
    ...(pipeline > 1 ? ["-P", String(pipeline)] : []),
    "-t", shape, "--csv",
  ];
}

async function runBenchmark(port: number, shape: LoadShape, requests: number, seconds: number, pipeline: number): Promise<Omit<LoadResult, "command">> {
  const output = await runClient(benchmarkArgs(port, shape, requests, pipeline), seconds * 1000 + GRACE_MS);
  return { ...parseRedisCsv(output), requests };
}

/** redis-benchmark against a server speaking RESP on `port`: GET or SET at 64 clients, `pipeline` commands per round trip. */
export interface RespLoad {
  load(shape: LoadShape, seconds: number, pipeline?: number): Promise<LoadResult>;
}

export function respLoad(port: number): RespLoad {
  // redis-benchmark runs a count: the count is the last run's rate (per shape and pipeline) times the time asked for.
  const rates = new Map<string, number>();
  return {
    async load(shape, seconds, pipeline = 1) {
      const key = `${shape} ${pipeline}`;
      const rate = rates.get(key) ?? FIRST_RATE_PER_S;
      const requests = Math.min(REQUESTS_MAX, Math.max(REQUESTS_MIN, Math.round(rate * seconds)));
      const result = await runBenchmark(port, shape, requests, seconds, pipeline);
      rates.set(key, result.requestsPerS);
      return { ...result, command: shellWords(benchmarkArgs("$PORT", shape, requests, pipeline)) };
    },
  };
}

/** Writes the keys redis-benchmark's GETs ask for (key:000000000000 …), so every GET finds one. */
export async function preloadGetKeys(url: string): Promise<void> {
  const client = new RedisClient(url, { connectionTimeout: CONNECT_TIMEOUT_MS, autoReconnect: false, enableOfflineQueue: false });
  try {
    await client.connect();
    const pairs = Array.from({ length: KEYS.get }, (_, n) => [benchmarkKey(n), "x".repeat(VALUE_BYTES)]).flat();
    await client.mset(...pairs);
  } finally {
    client.close();
  }
}

/** A command line as a shell would take it: the empty argument of --save shows as ''. */
const shellWords = (args: readonly string[]) => args.map((arg) => (arg === "" ? "''" : arg)).join(" ");

/** Starts redis-server without persistence in its own temp dir on a free port; the stack stops it and removes the dir. */
export async function startRedis(stack: AsyncDisposableStack): Promise<RedisReference> {
  const dir = stack.use(await tempDir("limedb-bench-redis-"));
  const port = freePort();
  const args = (p: number | string, d: string) => ["redis-server", "--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d, "--loglevel", "warning"];
  const server = stack.use(spawnServer(args(port, dir.path), `redis://127.0.0.1:${port}`));
  await preloadWhenReady(server.url, server.child);
  const shownArgs = (shape: LoadShape) => shellWords(benchmarkArgs("$PORT", shape, "$N"));
  const loads = respLoad(port);
  return {
    port,
    commands: [shellWords(args("$PORT", "$TMP")), shownArgs("get"), shownArgs("set")],
    load: (shape, seconds, pipeline) => loads.load(shape, seconds, pipeline),
  };
}
