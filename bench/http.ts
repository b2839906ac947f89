// HTTP load on one node with wrk: LimeDB (memory, sqlite NORMAL and FULL) against a raw Bun.serve process, GET and SET,
// with redis-server under redis-benchmark as a reference row.
import { join } from "node:path";
import { tempDir } from "./cleanup.ts";
import { againstBaseline, type Figure, type PartResult } from "./figures.ts";
import { preload } from "./preload.ts";
import { startOtlpSink } from "./otlp-sink.ts";
import { redisInstalled, redisVersion, startRedis } from "./redis.ts";
import { REPO_ROOT, REQUEST_TIMEOUT_MS, freePort, startServer } from "./server-process.ts";
import { LOAD_VALUE, WRK_CONNECTIONS, WRK_THREADS, measureInRotation, runWrk, wrkDetail, wrkInstalled, WARMUP_S, type LoadResult, type LoadShape, type Rotation } from "./wrk.ts";

/** Keys preloaded on every server before the GET runs; the GET script cycles over exactly these. */
const GET_KEYS = 1_000;
/** The SET script writes over this many keys, so a store grows to at most this size. */
const SET_KEYS = 10_000;
/** Seconds per wrk run; BENCH_HTTP_S shortens it for a quick look. */
const RUN_S = Number(process.env.BENCH_HTTP_S ?? 2);
/** A warm-up per server and shape (WARMUP_S), then each figure is the mean of two runs taken in rotation over the servers. */
const ROTATION: Rotation = { warmupS: WARMUP_S, rounds: 2, runS: RUN_S };

export const SHAPES = {
  get: { script: join(import.meta.dir, "wrk-get.lua"), keys: GET_KEYS, label: `GET /api/v1/get/:key, ${GET_KEYS / 1000}k preloaded keys` },
  set: { script: join(import.meta.dir, "wrk-set.lua"), keys: SET_KEYS, label: `POST /api/v1/set, ${SET_KEYS / 1000}k-key space` },
} as const;

/** A started server in the rotation: how to load it and how to describe its runs. */
interface Contender {
  readonly name: string;
  /** Its command lines with ports and dirs as placeholders, for the README. */
  readonly commands: readonly string[];
  readonly shown: (text: string) => string;
  readonly load: (shape: LoadShape, seconds: number) => Promise<LoadResult>;
  readonly detail: (result: LoadResult) => string;
}

/** A row of the server table: a name, why it cannot run here (undefined when it can), and how to start it. */
interface ServerConfig {
  readonly name: string;
  readonly missing: () => string | undefined;
  readonly start: (stack: AsyncDisposableStack) => Promise<Contender>;
}

type Command = (port: number, dataDir: string) => string[];

function limedb(backend: "memory" | "sqlite", sync: "normal" | "full" = "normal"): Command {
  return (port, dataDir) => [
    "bun", "src/main.ts",
    "-server.port", String(port),
    "-server.host", "127.0.0.1",
    "-node.url", `http://127.0.0.1:${port}`,
    "-data.dir", dataDir,
    "-store.backend", backend,
    ...(backend === "sqlite" ? ["-store.sqlite.sync", sync] : []),
    "-log.level", "warn",
  ];
}

async function preloadGetKeys(url: string): Promise<void> {
  await preload([url], Array.from({ length: GET_KEYS }, (_, n) => `bench-${n}`), LOAD_VALUE);
  const probe = await fetch(`${url}/api/v1/get/bench-0`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!probe.ok) throw new Error(`bench: ${url} lost preloaded key bench-0 (status ${probe.status})`);
}

/** A server that speaks LimeDB's HTTP API (LimeDB itself or the raw baseline), started as its own process and loaded by wrk. */
function httpServer(name: string, command: Command, headers: (port: number) => string[] = () => []): ServerConfig {
  return {
    name,
    missing: () => undefined,
    start: async (stack) => {
      const dir = stack.use(await tempDir("limedb-bench-http-"));
      const port = freePort();
      const url = `http://127.0.0.1:${port}`;
      const args = command(port, dir.path);
      stack.use(await startServer(args, url));
      await preloadGetKeys(url);
      const shown = (text: string) => text.replaceAll(dir.path, "$TMP").replaceAll(`${REPO_ROOT}/`, "").replaceAll(String(port), "$PORT");
      const load = (shape: LoadShape, seconds: number) =>
        runWrk({ url, script: SHAPES[shape].script, scriptArgs: [String(SHAPES[shape].keys)], seconds, threads: WRK_THREADS, connections: WRK_CONNECTIONS, headers: headers(port) });
      return { name, commands: [shown(args.join(" "))], shown, load, detail: wrkDetail };
    },
  };
}

const OTEL_ON = "LimeDB memory, OTel to a collector";
const OTEL_SAMPLED = "LimeDB memory, OTel 1% sampled";
const OTEL_DOWN = "LimeDB memory, OTel to a closed port";

/**
 * The memory node with OTEL_ENDPOINT set: to a collector that takes every export (the sink runs in
 * this process), or to a port nothing listens on, as when the collector is down.
 */
function telemetryServer(name: string, collector: "running" | "down", sampleRatio = 1): ServerConfig {
  return {
    name,
    missing: () => undefined,
    start: async (stack) => {
      const endpoint = collector === "running" ? stack.use(startOtlpSink()).url : `http://127.0.0.1:${freePort()}`;
      const node = httpServer(name, (port, dataDir) => [...limedb("memory")(port, dataDir), "-otel.endpoint", endpoint, "-otel.sample-ratio", String(sampleRatio)]);
      const contender = await node.start(stack);
      // The endpoint's port differs from run to run; the README shows it as a placeholder.
      return { ...contender, commands: contender.commands.map((command) => command.replace(endpoint, collector === "running" ? "http://127.0.0.1:$COLLECTOR" : "http://127.0.0.1:$CLOSED")) };
    },
  };
}

const HOST_CHECK_OFF = "LimeDB memory, ALLOWED_HOSTS=* (no Host check)";
const FROM_A_PAGE = "LimeDB memory, every request from a member's page (Origin)";

const REDIS = "redis-server (reference)";

function redisDetail(result: LoadResult): string {
  const latency = Number.isNaN(result.p50Ms) ? "this redis-benchmark reports no percentiles" : `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`;
  return `a reference, not a baseline: redis ${redisVersion() ?? "?"} over RESP, not HTTP, loaded by redis-benchmark with ${WRK_CONNECTIONS} clients; ${latency}, ${result.requests} requests`;
}

const redisServer: ServerConfig = {
  name: REDIS,
  missing: () => (redisInstalled() ? undefined : "skipped: redis-server and redis-benchmark are not both on PATH (apt-get install -y redis-server redis-tools)"),
  start: async (stack) => {
    const redis = await startRedis(stack);
    return { name: REDIS, commands: redis.commands, shown: (text) => text, load: (shape, seconds) => redis.load(shape, seconds), detail: redisDetail };
  },
};

/**
 * Every server of the part, loaded in this order in each round. The first is the baseline of every
 * ratio; a new configuration (another flag of the node, say) is one more line here.
 */
const SERVERS: readonly ServerConfig[] = [
  httpServer("raw Bun.serve", (port) => ["bun", "bench/raw-server.ts", String(port)]),
  httpServer("LimeDB memory", limedb("memory")),
  // The trust checks every request passes: the same node with the Host check off, and with every request carrying
  // the Origin of a page on a member (a loopback alias of the node itself), so the CORS policy runs each time.
  httpServer(HOST_CHECK_OFF, (port, dataDir) => [...limedb("memory")(port, dataDir), "-server.allowed-hosts", "*"]),
  httpServer(FROM_A_PAGE, limedb("memory"), (port) => [`Origin: http://localhost:${port}`]),
  httpServer("LimeDB sqlite NORMAL", limedb("sqlite", "normal")),
  httpServer("LimeDB sqlite FULL", limedb("sqlite", "full")),
  telemetryServer(OTEL_ON, "running"),
  telemetryServer(OTEL_SAMPLED, "running", 0.01),
  telemetryServer(OTEL_DOWN, "down"),
  redisServer,
];

function fullVersusNormal(share: number): string {
  const what = `FULL SETs run at ${share.toFixed(2)}× the NORMAL rate`;
  if (share >= 0.8) return `${what}: with ${WRK_CONNECTIONS} connections the group-commit batcher turns many requests into one fsync, so full durability costs little.`;
  return `${what}: the fsync per batch still shows; more concurrent writers would make the batches, and the gain, larger.`;
}

/** Below this share a difference in rate between two configurations of one node is not called a cost. */
const NOISE_SHARE = 0.05;

function trustNote(offGet: number, offSet: number, pageGet: number, pageSet: number): string {
  const faster = Math.max(offGet, offSet) - 1;
  const hostVerdict =
    faster <= NOISE_SHARE
      ? "no faster than the default node, so the Host check every request passes costs no measurable throughput"
      : `faster by up to ${(faster * 100).toFixed(0)}%, more than the ${NOISE_SHARE * 100}% taken for noise: rerun before calling it a cost, two 2 s runs per row are noisy on 2 cores shared with wrk`;
  return `Trust checks: with the Host check off (ALLOWED_HOSTS=*) the node answers ${offGet.toFixed(2)}× the GETs and ${offSet.toFixed(2)}× the SETs of the default node: ${hostVerdict}. With a member page's Origin on every request (what only browser requests pay: the CORS policy decides each one) it answers ${pageGet.toFixed(2)}× and ${pageSet.toFixed(2)}×.`;
}

function httpNotes(figures: readonly Figure[], problems: readonly string[]): string[] {
  const ratio = (shape: LoadShape, name: string) => figures.find((f) => f.group === SHAPES[shape].label && f.name === name)?.ratio ?? Number.NaN;
  const notes = [
    `LimeDB memory answers GETs at ${ratio("get", "LimeDB memory").toFixed(2)}× and SETs at ${ratio("set", "LimeDB memory").toFixed(2)}× raw Bun.serve; between them lies everything the node adds per request: Elysia routing, TypeBox validation, the capped body reader, the ring check and the HLC version.`,
    `With sqlite the node keeps ${ratio("get", "LimeDB sqlite NORMAL").toFixed(2)}× of raw GETs and ${ratio("set", "LimeDB sqlite NORMAL").toFixed(2)}× of raw SETs at NORMAL, ${ratio("set", "LimeDB sqlite FULL").toFixed(2)}× at FULL; ${fullVersusNormal(ratio("set", "LimeDB sqlite FULL") / ratio("set", "LimeDB sqlite NORMAL"))}`,
  ];
  const memory = (shape: LoadShape, name: string) => ratio(shape, name) / ratio(shape, "LimeDB memory");
  notes.push(
    `Telemetry: with OTEL_ENDPOINT set and a collector taking every export, the memory node keeps ${memory("get", OTEL_ON).toFixed(2)}× of its GET rate and ${memory("set", OTEL_ON).toFixed(2)}× of its SET rate without telemetry (a server span per request, batched and exported in the background; the collector shares the cores). Tracing 1% of requests (OTEL_SAMPLE_RATIO=0.01) keeps ${memory("get", OTEL_SAMPLED).toFixed(2)}× and ${memory("set", OTEL_SAMPLED).toFixed(2)}×: what is left is the span every request gets, sampled or not (OTLP metrics are read from the registry at export and cost a request nothing). With the collector down (a closed port) it keeps ${memory("get", OTEL_DOWN).toFixed(2)}× and ${memory("set", OTEL_DOWN).toFixed(2)}×: failed exports are retried and dropped in the background, never waited on by a request.`,
  );
  notes.push(trustNote(memory("get", HOST_CHECK_OFF), memory("set", HOST_CHECK_OFF), memory("get", FROM_A_PAGE), memory("set", FROM_A_PAGE)));
  const redisGet = ratio("get", REDIS);
  if (!Number.isNaN(redisGet)) {
    notes.push(
      `For scale, redis-server on the same cores answers ${redisGet.toFixed(2)}× the raw Bun.serve GET rate and ${ratio("set", REDIS).toFixed(2)}× its SET rate under redis-benchmark at ${WRK_CONNECTIONS} clients. It is a reference, not a baseline: RESP needs no HTTP parsing, routing or JSON, and a different load generator drives it, so it shows what a mature in-memory store does on this machine rather than a target for the node.`,
    );
  }
  return [...notes, ...problems];
}

/** The rows of one shape: every server of the table in order, a skipped one as not measured. */
function shapeFigures(shape: LoadShape, contenders: readonly Contender[], results: readonly LoadResult[], skipped: ReadonlyMap<string, string>): Figure[] {
  const rows = SERVERS.map((server) => {
    const i = contenders.findIndex((c) => c.name === server.name);
    const result = results[i];
    if (i < 0 || result === undefined) return { name: server.name, value: Number.NaN, detail: skipped.get(server.name) ?? "not measured" };
    return { name: server.name, value: result.requestsPerS, detail: contenders[i]!.detail(result) };
  });
  const [baseline, ...others] = rows;
  if (baseline === undefined || Number.isNaN(baseline.value)) throw new Error("bench: the raw Bun.serve baseline did not run");
  return againstBaseline("http", SHAPES[shape].label, "req/s", baseline, others);
}

function skippedPart(started: number): PartResult {
  const note = "HTTP part skipped: wrk is not installed. Install it with `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`, then run `bun run bench http`.";
  console.warn(`bench: ${note}`);
  return { part: "http", figures: [], notes: [note], commands: [], elapsedMs: performance.now() - started };
}

export async function benchHttp(): Promise<PartResult> {
  const started = performance.now();
  if (!wrkInstalled()) return skippedPart(started);
  await using stack = new AsyncDisposableStack();
  const contenders: Contender[] = [];
  const skipped = new Map<string, string>();
  for (const server of SERVERS) {
    const missing = server.missing();
    if (missing === undefined) contenders.push(await server.start(stack));
    else skipped.set(server.name, missing);
  }
  const problems = [...skipped].map(([name, why]) => `${name}: ${why}.`);
  for (const problem of problems) console.warn(`bench: ${problem}`);
  const figures: Figure[] = [];
  const commands = contenders.flatMap((c) => c.commands);
  for (const shape of ["get", "set"] as const) {
    const results = await measureInRotation(contenders, (c, seconds) => c.load(shape, seconds), (c) => c.shown, ROTATION);
    figures.push(...shapeFigures(shape, contenders, results, skipped));
    const failed = results.flatMap((result, i) => (result.errors > 0 ? [`${contenders[i]!.name} ${shape.toUpperCase()}: ${result.errors}`] : []));
    if (failed.length > 0) problems.push(`wrk saw failed requests (${failed.join("; ")}); those figures overstate the node.`);
    // Every wrk run differs only in the port; the first server's run stands for them.
    commands.push(results[0]?.command ?? "");
  }
  return { part: "http", figures, notes: httpNotes(figures, problems), commands, elapsedMs: performance.now() - started };
}
