// Starts a server as a child process on 127.0.0.1, waits until it answers, and always stops it.
import { join } from "node:path";
import { track } from "./cleanup.ts";
import { nodeProcessEnv } from "../src/config/process-env.ts";

export const REPO_ROOT = join(import.meta.dir, "..");

/** How long a server may take to answer its health route after spawn. */
const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 50;
/** Every request the bench makes itself (readiness, preload) gives up after this. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** After SIGTERM a server gets this long to close its store before SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;

export interface ServerProcess extends AsyncDisposable {
  readonly url: string;
  readonly pid: number;
}

/** A server spawned but perhaps not answering yet; the cluster bench times its start and kills it with -9. */
export interface SpawnedServer extends ServerProcess {
  /** performance.now() just before the spawn. */
  readonly spawnedAtMs: number;
  readonly child: Bun.Subprocess;
  /** SIGKILL, as a crash: the process gets no chance to say goodbye. Resolves once it is gone. */
  kill9(): Promise<void>;
}

/** A port nothing listens on right now: bind port 0, read it, release it. */
export function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port;
  void probe.stop(true);
  if (port === undefined) throw new Error("bench: could not find a free port");
  return port;
}

function hasExited(child: Bun.Subprocess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopChild(child: Bun.Subprocess): Promise<void> {
  if (hasExited(child)) return;
  child.kill("SIGTERM");
  // A timer rather than Bun.sleep, so a prompt exit does not leave the bench waiting out the bound.
  const escalate = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  try {
    await child.exited;
  } finally {
    clearTimeout(escalate);
  }
}

/** Spawns `command` from the repo root; its stdout (JSON log lines) is dropped, its stderr shown. */
export function spawnServer(command: readonly string[], url: string): SpawnedServer {
  const spawnedAtMs = performance.now();
  // Raw Bun.serve baselines get the nodes' environment too, so a ratio compares code, not allocator settings.
  const child = Bun.spawn([...command], { cwd: REPO_ROOT, env: nodeProcessEnv(process.env), stdin: "ignore", stdout: "ignore", stderr: "inherit" });
  const handle = track(() => stopChild(child));
  return {
    url,
    pid: child.pid,
    spawnedAtMs,
    child,
    kill9: async () => {
      if (!hasExited(child)) child.kill("SIGKILL");
      await child.exited;
    },
    [Symbol.asyncDispose]: handle[Symbol.asyncDispose],
  };
}

/** Polls the health route every `pollMs` until it answers 200; returns performance.now() at that answer. */
export async function waitReady(server: SpawnedServer, pollMs = READY_POLL_MS): Promise<number> {
  const healthUrl = `${server.url}/api/v1/health`;
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`bench: server exited with ${server.child.exitCode} before answering ${healthUrl}`);
    const ok = await fetch(healthUrl, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then(
      async (response) => {
        await response.arrayBuffer();
        return response.ok;
      },
      () => false,
    );
    if (ok) return performance.now();
    await Bun.sleep(pollMs);
  }
  throw new Error(`bench: ${healthUrl} did not answer within ${READY_TIMEOUT_MS} ms`);
}

/** Spawns `command` and waits until it answers its health route; a server that never does is stopped. */
export async function startServer(command: readonly string[], url: string): Promise<ServerProcess> {
  const server = spawnServer(command, url);
  try {
    await waitReady(server);
  } catch (error) {
    await server[Symbol.asyncDispose]();
    throw error;
  }
  return { url, pid: server.pid, [Symbol.asyncDispose]: server[Symbol.asyncDispose] };
}

/**
 * Runs a load generator (wrk, redis-benchmark) to its end and returns what it printed. It stops
 * itself; `boundMs` only catches one that hangs, and Ctrl-C stops it with the servers rather than
 * leaving it hammering a closed port.
 */
export async function runClient(args: readonly string[], boundMs: number): Promise<string> {
  const child = Bun.spawn([...args], { stdout: "pipe", stderr: "pipe" });
  const guard = setTimeout(() => child.kill("SIGKILL"), boundMs);
  await using _stopOnInterrupt = track(async () => {
    if (!hasExited(child)) child.kill("SIGKILL");
    await child.exited;
  });
  try {
    const [output, errors, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    if (code !== 0) throw new Error(`bench: ${args[0]} exited with ${code}: ${errors.trim() || output.trim()}`);
    return output;
  } finally {
    clearTimeout(guard);
  }
}
