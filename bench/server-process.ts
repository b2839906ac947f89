// Starts a server as a child process on 127.0.0.1, waits until it answers, and always stops it.
import { join } from "node:path";
import { track } from "./cleanup.ts";

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

/** A port nothing listens on right now: bind port 0, read it, release it. */
export function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port;
  void probe.stop(true);
  if (port === undefined) throw new Error("bench: could not find a free port");
  return port;
}

async function stopChild(child: Bun.Subprocess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  // A timer rather than Bun.sleep, so a prompt exit does not leave the bench waiting out the bound.
  const escalate = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  try {
    await child.exited;
  } finally {
    clearTimeout(escalate);
  }
}

async function waitReady(child: Bun.Subprocess, healthUrl: string): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`bench: server exited with ${child.exitCode} before answering ${healthUrl}`);
    const ok = await fetch(healthUrl, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await Bun.sleep(READY_POLL_MS);
  }
  throw new Error(`bench: ${healthUrl} did not answer within ${READY_TIMEOUT_MS} ms`);
}

/** Spawns `command` from the repo root; its stdout (JSON log lines) is dropped, its stderr shown. */
export async function startServer(command: readonly string[], url: string): Promise<ServerProcess> {
  const child = Bun.spawn([...command], { cwd: REPO_ROOT, stdin: "ignore", stdout: "ignore", stderr: "inherit" });
  const handle = track(() => stopChild(child));
  try {
    await waitReady(child, `${url}/api/v1/health`);
  } catch (error) {
    await handle[Symbol.asyncDispose]();
    throw error;
  }
  return { url, pid: child.pid, [Symbol.asyncDispose]: handle[Symbol.asyncDispose] };
}
