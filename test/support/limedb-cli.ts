// Runs the `limedb` client as a real process, the way a user or a script does, and gives back what it printed and its exit code.
import { join } from "node:path";

const REPO_ROOT = join(import.meta.dir, "..", "..");
/** A cold start of the client takes well under a second; a run past this bound is killed and fails the test. */
export const CLI_RUN_TIMEOUT_MS = 10_000;

export interface CliRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Text piped on stdin; without it stdin is empty (/dev/null), never the test's terminal. */
  readonly stdin?: string;
  /** Added to the environment; LIMEDB_NODE is removed first so the shell running the tests cannot pick the node. */
  readonly env?: Readonly<Record<string, string>>;
  /** Bound on the run; CLI_RUN_TIMEOUT_MS when left out (a backup of many keys takes longer). */
  readonly timeoutMs?: number;
}

export async function runLimedb(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.LIMEDB_NODE;
  Object.assign(env, options.env);
  const child = Bun.spawn([process.execPath, "src/cli/limedb.ts", ...args], {
    cwd: REPO_ROOT,
    env,
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timeoutMs = options.timeoutMs ?? CLI_RUN_TIMEOUT_MS;
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    if (child.signalCode === "SIGKILL") throw new Error(`limedb ${args.join(" ")} ran longer than ${timeoutMs} ms; stderr: ${stderr}`);
    return { exitCode: child.exitCode, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
