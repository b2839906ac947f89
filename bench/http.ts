// HTTP load on one node with wrk: LimeDB (memory, sqlite NORMAL and FULL) against a raw Bun.serve process, GET and SET.
import { join } from "node:path";
import { tempDir } from "./cleanup.ts";
import { againstBaseline, type Figure, type PartResult } from "./figures.ts";
import { REPO_ROOT, REQUEST_TIMEOUT_MS, freePort, startServer } from "./server-process.ts";
import { combineRuns, runWrk, wrkDetail, wrkInstalled, type WrkResult } from "./wrk.ts";

/** Keys preloaded on every server before the GET runs; the GET script cycles over exactly these. */
const GET_KEYS = 1_000;
/** The SET script writes over this many keys, so a store grows to at most this size. */
const SET_KEYS = 10_000;
const PRELOAD_CONCURRENCY = 64;
const THREADS = 2;
const CONNECTIONS = 64;
/** Seconds per wrk run; BENCH_HTTP_S shortens it for a quick look. */
const RUN_S = Number(process.env.BENCH_HTTP_S ?? 2);
/** Each figure adds up this many runs, alternating between the servers. */
const ROUNDS = 3;
/** Long enough for the JIT to compile the route handlers before anything is counted. */
const WARMUP_S = 2;
const GET_SCRIPT = join(import.meta.dir, "wrk-get.lua");
const SET_SCRIPT = join(import.meta.dir, "wrk-set.lua");

interface Target {
  readonly name: string;
  /** The command line, given a port and a data dir. */
  readonly command: (port: number, dataDir: string) => string[];
}

function limedb(backend: "memory" | "sqlite", sync: "normal" | "full"): (port: number, dataDir: string) => string[] {
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

const TARGETS: readonly Target[] = [
  { name: "raw Bun.serve", command: (port) => ["bun", "bench/raw-server.ts", String(port)] },
  { name: "LimeDB memory", command: limedb("memory", "normal") },
  { name: "LimeDB sqlite NORMAL", command: limedb("sqlite", "normal") },
  { name: "LimeDB sqlite FULL", command: limedb("sqlite", "full") },
];

const SHAPES = {
  get: { script: GET_SCRIPT, keys: GET_KEYS, label: `GET /api/v1/get/:key, ${GET_KEYS / 1000}k preloaded keys` },
  set: { script: SET_SCRIPT, keys: SET_KEYS, label: `POST /api/v1/set, ${SET_KEYS / 1000}k-key space` },
} as const;
type Shape = keyof typeof SHAPES;

async function preload(url: string): Promise<void> {
  for (let start = 0; start < GET_KEYS; start += PRELOAD_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(PRELOAD_CONCURRENCY, GET_KEYS - start) }, (_, i) =>
      fetch(`${url}/api/v1/set`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: `bench-${start + i}`, value: "v".repeat(64) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      }).then(async (response) => {
        if (!response.ok) throw new Error(`bench: preload of ${url} answered ${response.status}: ${await response.text()}`);
      }),
    );
    await Promise.all(batch);
  }
  const probe = await fetch(`${url}/api/v1/get/bench-0`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!probe.ok) throw new Error(`bench: ${url} lost preloaded key bench-0 (status ${probe.status})`);
}

interface Running {
  readonly target: Target;
  readonly url: string;
  /** Hides the temp dir, the port and the repo path, so the README shows a command anyone can run. */
  readonly shown: (text: string) => string;
  readonly command: string;
}

function load(server: Running, shape: Shape, seconds: number): Promise<WrkResult> {
  const { script, keys } = SHAPES[shape];
  return runWrk({ url: server.url, script, scriptArgs: [String(keys)], seconds, threads: THREADS, connections: CONNECTIONS });
}

/** Warms every server, then runs them in alternating rounds so drift on a shared machine is spread over all. */
async function measureShape(servers: readonly Running[], shape: Shape): Promise<WrkResult[]> {
  for (const server of servers) await load(server, shape, WARMUP_S);
  const runs = servers.map((): WrkResult[] => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, server] of servers.entries()) runs[i]!.push(await load(server, shape, RUN_S));
  }
  return runs.map((r, i) => combineRuns(r, servers[i]!.shown));
}

function fullVersusNormal(share: number): string {
  const what = `FULL SETs run at ${share.toFixed(2)}× the NORMAL rate`;
  if (share >= 0.8) return `${what}: with ${CONNECTIONS} connections the group-commit batcher turns many requests into one fsync, so full durability costs little.`;
  return `${what}: the fsync per batch still shows; more concurrent writers would make the batches, and the gain, larger.`;
}

function httpNotes(figures: readonly Figure[], errors: readonly string[]): string[] {
  const ratio = (shape: Shape, name: string) => figures.find((f) => f.group === SHAPES[shape].label && f.name === name)?.ratio ?? Number.NaN;
  const notes = [
    `LimeDB memory answers GETs at ${ratio("get", "LimeDB memory").toFixed(2)}× and SETs at ${ratio("set", "LimeDB memory").toFixed(2)}× raw Bun.serve; between them lies everything the node adds per request: Elysia routing, TypeBox validation, the capped body reader, the ring check and the HLC version.`,
    `With sqlite the node keeps ${ratio("get", "LimeDB sqlite NORMAL").toFixed(2)}× of raw GETs and ${ratio("set", "LimeDB sqlite NORMAL").toFixed(2)}× of raw SETs at NORMAL, ${ratio("set", "LimeDB sqlite FULL").toFixed(2)}× at FULL; ${fullVersusNormal(ratio("set", "LimeDB sqlite FULL") / ratio("set", "LimeDB sqlite NORMAL"))}`,
  ];
  if (errors.length > 0) notes.push(`wrk saw failed requests (${errors.join("; ")}); those figures overstate the node.`);
  return notes;
}

export async function benchHttp(): Promise<PartResult> {
  const started = performance.now();
  if (!wrkInstalled()) {
    const note = "HTTP part skipped: wrk is not installed. Install it with `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`, then run `bun run bench http`.";
    console.warn(`bench: ${note}`);
    return { part: "http", figures: [], notes: [note], commands: [], elapsedMs: performance.now() - started };
  }
  await using stack = new AsyncDisposableStack();
  const servers: Running[] = [];
  for (const target of TARGETS) {
    const dir = stack.use(await tempDir("limedb-bench-http-"));
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const command = target.command(port, dir.path);
    stack.use(await startServer(command, url));
    await preload(url);
    const shown = (text: string) => text.replaceAll(dir.path, "$TMP").replaceAll(`${REPO_ROOT}/`, "").replaceAll(String(port), "$PORT");
    servers.push({ target, url, shown, command: shown(command.join(" ")) });
  }
  const results = { get: await measureShape(servers, "get"), set: await measureShape(servers, "set") };
  const figures: Figure[] = [];
  for (const shape of ["get", "set"] as const) {
    const [raw, ...nodes] = results[shape].map((result, i) => ({ name: servers[i]!.target.name, value: result.requestsPerS, detail: wrkDetail(result) }));
    if (raw === undefined) throw new Error("bench: the raw Bun.serve baseline did not run");
    figures.push(...againstBaseline("http", SHAPES[shape].label, "req/s", raw, nodes));
  }
  const errors = (["get", "set"] as const).flatMap((shape) =>
    results[shape].flatMap((result, i) => (result.errors > 0 ? [`${servers[i]!.target.name} ${shape.toUpperCase()}: ${result.errors}`] : [])),
  );
  const commands = [...servers.map((s) => s.command), results.get[0]?.command ?? "", results.set[0]?.command ?? ""];
  return { part: "http", figures, notes: httpNotes(figures, errors), commands, elapsedMs: performance.now() - started };
}
