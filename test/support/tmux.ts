// A real terminal for full-screen tests: a private tmux server with one pane of a fixed size, driven by keys and read by capture-pane.
import { rm } from "node:fs/promises";
import { waitUntil } from "./cluster.ts";

/** tmux answers a command in milliseconds; past this bound the test fails instead of hanging. */
const TMUX_COMMAND_TIMEOUT_MS = 5_000;

export interface TerminalOptions {
  readonly columns: number;
  readonly rows: number;
  readonly cwd: string;
}

/**
 * One tmux server on its own socket (so the tests never touch a user's sessions or another test's) running
 * a plain bash in one pane. Disposing kills that server, and with it everything the pane runs.
 */
export class Terminal implements AsyncDisposable {
  private socketPath = "";

  private constructor(private readonly socket: string) {}

  static start(options: TerminalOptions): Terminal {
    if (Bun.which("tmux") === null) throw new Error("these tests drive a real terminal with tmux; install it (apt-get install -y tmux)");
    const terminal = new Terminal(`limedb-test-${process.pid}-${Math.floor(Math.random() * 1e9)}`);
    // -f /dev/null: no user configuration; the server inherits this process's environment.
    terminal.tmux(
      "new-session", "-d", "-s", "main", "-x", String(options.columns), "-y", String(options.rows), "-c", options.cwd,
      "env", "PS1=$ ", "bash", "--norc", "--noprofile",
    );
    terminal.socketPath = terminal.display("#{socket_path}");
    return terminal;
  }

  /** Keys by tmux name: "Enter", "Tab", "Escape", "Down", "q". */
  press(...keys: string[]): void {
    for (const key of keys) this.tmux("send-keys", "-t", "main", key);
  }

  /** Text typed literally, character by character as tmux sends it. */
  type(text: string): void {
    this.tmux("send-keys", "-t", "main", "-l", text);
  }

  /** A command line typed into the shell and run. */
  run(commandLine: string): void {
    this.type(commandLine);
    this.press("Enter");
  }

  /** The visible screen as text, one line per row. */
  screen(): string {
    return this.tmux("capture-pane", "-p", "-t", "main");
  }

  /** A tmux format about the pane, e.g. "#{alternate_on}". */
  display(format: string): string {
    return this.tmux("display-message", "-p", "-t", "main", format).trim();
  }

  /** Polls the screen until `done` holds for it; throws after `timeoutMs` with the last screen. */
  async waitFor(what: string, done: (screen: string) => boolean, timeoutMs: number): Promise<string> {
    try {
      return (await waitUntil(what, async () => this.screen(), done, timeoutMs)).value;
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message.split("; last reading")[0] : String(error)}; screen:\n${this.screen()}`);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    Bun.spawnSync(["tmux", "-L", this.socket, "kill-server"], { timeout: TMUX_COMMAND_TIMEOUT_MS });
    // A killed server leaves its socket file behind.
    if (this.socketPath !== "") await rm(this.socketPath, { force: true });
  }

  private tmux(...args: string[]): string {
    const result = Bun.spawnSync(["tmux", "-L", this.socket, "-f", "/dev/null", ...args], { timeout: TMUX_COMMAND_TIMEOUT_MS, stdout: "pipe", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`tmux ${args.join(" ")} failed (${result.exitCode}): ${result.stderr.toString()}`);
    return result.stdout.toString();
  }
}
