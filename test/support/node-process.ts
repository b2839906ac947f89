// Runs a LimeDB node as a separate process for end-to-end, crash and cluster tests: real sockets, signals and files.
import type { Subprocess } from "bun";
import { join } from "node:path";
import type { StoreBackendName } from "../../src/config/settings.ts";
import { freePort } from "./free-port.ts";
import { nodeProcessEnv } from "../../src/config/process-env.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");
/** A cold `bun src/main.ts` answers in well under a second; ten leaves room for a loaded 2-core machine. */
export const START_TIMEOUT_MS = 10_000;
/** How long a node may take to exit after SIGTERM (it drains writes and closes the store) or SIGKILL. */
export const STOP_TIMEOUT_MS = 10_000;
const HEALTH_POLL_INTERVAL_MS = 25;
const HEALTH_REQUEST_TIMEOUT_MS = 1_000;
/** Output kept per stream: every start and error line of a test node, bounded for a chatty one. */
const OUTPUT_CHARS_MAX = 64 * 1024;
/** Fresh ports tried when the port picked was taken between choosing it and the node binding it. */
const PORT_ATTEMPTS_MAX = 3;

export interface NodeProcessOptions {
  readonly dataDir: string;
  /** Passed as -store.backend; left out, the node runs with its default (sqlite). */
  readonly backend?: StoreBackendName;
  /** A free port is picked when not given. The node's URL is http://127.0.0.1:<port>. */
  readonly port?: number;
  /** Further flags, e.g. ["-node.peers", url]; they come last, so a repeated flag overrides the defaults above. */
  readonly args?: readonly string[];
  /** Added to this test process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number;
}

export interface NodeExit {
  readonly exitCode: number | null;
  readonly signalCode: NodeSubprocess["signalCode"];
  readonly stdout: string;
  readonly stderr: string;
}

type NodeSubprocess = Subprocess<"ignore", "pipe", "pipe">;

/** The last `charsMax` characters a stream produced, read continuously so the child never blocks on a full pipe. */
export class OutputTail {
  text = "";
  readonly done: Promise<void>;

  constructor(
    stream: ReadableStream<Uint8Array>,
    private readonly charsMax = OUTPUT_CHARS_MAX,
  ) {
    this.done = this.pump(stream);
  }

  private async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (done) break;
      this.text = (this.text + decoder.decode(value, { stream: true })).slice(-this.charsMax);
    }
  }
}

/** A node that exited before it answered its health check, told apart so a taken port can be retried. */
class NodeExitedError extends Error {
  override readonly name = "NodeExitedError";
  constructor(
    message: string,
    readonly portTaken: boolean,
  ) {
    super(message);
  }
}

function argsFor(port: number, options: NodeProcessOptions): string[] {
  return [
    "-server.port", String(port),
    "-server.host", "127.0.0.1",
    "-node.url", `http://127.0.0.1:${port}`,
    "-data.dir", options.dataDir,
    ...(options.backend === undefined ? [] : ["-store.backend", options.backend]),
    ...(options.args ?? []),
  ];
}

function spawnNode(port: number, options: NodeProcessOptions): { process: NodeSubprocess; stdout: OutputTail; stderr: OutputTail } {
  // The Bun running the tests runs the node too, so both always agree on the version.
  const child = Bun.spawn([process.execPath, "src/main.ts", ...argsFor(port, options)], {
    cwd: REPO_ROOT,
    env: nodeProcessEnv(process.env, options.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  return { process: child, stdout: new OutputTail(child.stdout), stderr: new OutputTail(child.stderr) };
}

/** Resolves true when the process exited within the bound, false when it is still running. */
async function exitedWithin(child: NodeSubprocess, timeoutMs: number): Promise<boolean> {
  let timer: Timer | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const exited = await Promise.race([child.exited.then(() => true), timeout]);
  clearTimeout(timer);
  return exited;
}

/** A node process started by startNode: stopped, killed and restarted on the same port and data dir. */
class NodeProcessHandle implements AsyncDisposable {
  readonly url: string;
  private current: ReturnType<typeof spawnNode>;
  private exited = false;

  constructor(
    readonly port: number,
    private readonly options: NodeProcessOptions,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.current = this.spawn();
  }

  get process(): NodeSubprocess {
    return this.current.process;
  }

  /** Where this node keeps its files; the same across restarts. */
  get dataDir(): string {
    return this.options.dataDir;
  }

  /** What the current process has written to stdout so far (its JSON log lines). */
  get stdout(): string {
    return this.current.stdout.text;
  }

  get stderr(): string {
    return this.current.stderr.text;
  }

  /** Waits until GET /api/v1/health answers 200, the process exits, or the start bound passes. */
  async waitUntilHealthy(): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? START_TIMEOUT_MS;
    const deadline = performance.now() + timeoutMs;
    let last = "no answer yet";
    for (;;) {
      if (this.exited) {
        await Promise.all([this.current.stdout.done, this.current.stderr.done]);
        const stderr = this.stderr;
        throw new NodeExitedError(
          `node ${this.url} exited with code ${this.process.exitCode} (signal ${this.process.signalCode}) before /api/v1/health answered; stderr:\n${stderr}`,
          stderr.includes("cannot listen"),
        );
      }
      try {
        const response = await fetch(`${this.url}/api/v1/health`, { signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS) });
        last = `${response.status} ${await response.text()}`;
        if (response.status === 200) return;
      } catch (error) {
        last = String(error);
      }
      if (performance.now() > deadline) {
        await this.kill9();
        throw new Error(`node ${this.url} did not answer /api/v1/health with 200 within ${timeoutMs} ms (last: ${last}); stderr:\n${this.stderr}`);
      }
      await Bun.sleep(HEALTH_POLL_INTERVAL_MS);
    }
  }

  /** SIGTERM, then waits for the exit; returns the exit code (0 for a clean stop). */
  async stop(): Promise<number | null> {
    if (!this.exited) {
      this.process.kill("SIGTERM");
      if (!(await exitedWithin(this.process, STOP_TIMEOUT_MS))) {
        this.process.kill("SIGKILL");
        await exitedWithin(this.process, STOP_TIMEOUT_MS);
        throw new Error(`node ${this.url} did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM and was killed; stderr:\n${this.stderr}`);
      }
    }
    return this.process.exitCode;
  }

  /** SIGINT: the node stops at once without handing its data off (a graceful leave is SIGTERM); returns the exit code. */
  async interrupt(): Promise<number | null> {
    if (!this.exited) {
      this.process.kill("SIGINT");
      if (!(await exitedWithin(this.process, STOP_TIMEOUT_MS))) {
        this.process.kill("SIGKILL");
        await exitedWithin(this.process, STOP_TIMEOUT_MS);
        throw new Error(`node ${this.url} did not stop within ${STOP_TIMEOUT_MS} ms of SIGINT and was killed; stderr:\n${this.stderr}`);
      }
    }
    return this.process.exitCode;
  }

  /** SIGKILL: no handler runs, nothing is flushed; what the node acknowledged must already be durable. */
  async kill9(): Promise<void> {
    if (this.exited) return;
    this.process.kill("SIGKILL");
    if (!(await exitedWithin(this.process, STOP_TIMEOUT_MS))) throw new Error(`node ${this.url} survived SIGKILL for ${STOP_TIMEOUT_MS} ms`);
  }

  /** Stops the node if it runs, then starts it again with the same port, data dir, flags and env. */
  async restart(): Promise<void> {
    await this.stop();
    this.current = this.spawn();
    await this.waitUntilHealthy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private spawn(): ReturnType<typeof spawnNode> {
    const spawned = spawnNode(this.port, this.options);
    this.exited = false;
    void spawned.process.exited.then(() => {
      if (this.current === spawned) this.exited = true;
    });
    return spawned;
  }
}

export type NodeProcess = NodeProcessHandle;

/** Starts a node process and resolves once it answers its health check; use with `await using`. */
export async function startNode(options: NodeProcessOptions): Promise<NodeProcess> {
  for (let attempt = 1; ; attempt++) {
    const node = new NodeProcessHandle(options.port ?? freePort(), options);
    try {
      await node.waitUntilHealthy();
      return node;
    } catch (error) {
      const retry = error instanceof NodeExitedError && error.portTaken && options.port === undefined && attempt < PORT_ATTEMPTS_MAX;
      if (!retry) throw error;
    }
  }
}

/** Runs a node that is expected to refuse to start, and gives back how it exited and what it said. */
export async function runNodeToExit(options: NodeProcessOptions): Promise<NodeExit> {
  const port = options.port ?? freePort();
  const { process: child, stdout, stderr } = spawnNode(port, options);
  const timeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  if (!(await exitedWithin(child, timeoutMs))) {
    child.kill("SIGKILL");
    await exitedWithin(child, STOP_TIMEOUT_MS);
    throw new Error(`node on port ${port} was expected to exit but still ran after ${timeoutMs} ms; stderr:\n${stderr.text}`);
  }
  await Promise.all([stdout.done, stderr.done]);
  return { exitCode: child.exitCode, signalCode: child.signalCode, stdout: stdout.text, stderr: stderr.text };
}
