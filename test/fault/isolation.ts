// One node of a fault cluster: its own Linux user, its own loopback address and its own wall clock, so that
// iptables owner rules can cut it off from another node, signals reach exactly its bun process, and libfaketime
// can skew its clock, while this test process (root, on 127.0.0.1) still reaches every node.
import type { Subprocess } from "bun";
import { chmod, chown, mkdir, rename, writeFile } from "node:fs/promises";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OutputTail } from "../support/node-process.ts";
import { NODE_PROCESS_ENV } from "../../src/config/process-env.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");
/** Debian's faketime package puts it here; every fault node preloads it so its clock can be skewed while it runs. */
export const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
/** How long libfaketime keeps an offset read from its file: a new offset takes effect within this. */
export const FAKETIME_CACHE_S = 1;
/**
 * libfaketime rereads the file only once more than FAKETIME_CACHE_S whole seconds have passed since it last
 * did (and only when the process asks the time), so a new offset is in force within about two of them.
 */
export const CLOCK_SETTLE_MS = (FAKETIME_CACHE_S + 1) * 1000 + 200;
/** Node i listens on 127.0.0.(ADDRESS_BASE + i) and runs as limedb-f(i + 1). */
const ADDRESS_BASE = 11;
export const USER_PREFIX = "limedb-f";
/** A cold `bun src/main.ts` answers in well under a second; the bound leaves room for five starting at once on 2 cores. */
export const START_TIMEOUT_MS = 20_000;
/** How long a node may take to exit after SIGINT or SIGKILL. */
export const STOP_TIMEOUT_MS = 10_000;
const HEALTH_POLL_INTERVAL_MS = 50;
const HEALTH_REQUEST_TIMEOUT_MS = 1_000;
/** Characters of a node's stderr kept for diagnosis. */
const STDERR_CHARS_MAX = 16 * 1024;
/** Bound on a helper command (useradd, id, a probe) run by the harness. */
export const COMMAND_TIMEOUT_MS = 10_000;

/** Held by the one fault run of this machine (see lockMachine). */
export const LOCK_FILE = "/tmp/limedb-fault.lock";
/** Every pid this process started and has not seen exit, so an interrupted run can still kill them all. */
export const livePids = new Set<number>();

export interface NodeIdentity {
  readonly index: number;
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  readonly address: string;
}

/** Why fault tests cannot run here, or undefined when they can: they need root, iptables, setpriv and useradd. */
export function isolationUnsupported(): string | undefined {
  if (process.getuid?.() !== 0) return "the fault suite needs root (iptables rules and per-node users)";
  for (const tool of ["iptables", "setpriv", "useradd"]) if (Bun.which(tool, { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` }) === null) return `the fault suite needs ${tool}, which is not installed`;
  if (!existsSync(LIBFAKETIME)) return `the fault suite needs libfaketime (${LIBFAKETIME}; apt-get install faketime)`;
  const listing = run(["iptables", "-w", "5", "-S", "OUTPUT"]);
  if (!listing.ok) return `iptables cannot be used here (${listing.out.slice(0, 200)}); the fault suite needs CAP_NET_ADMIN`;
  return undefined;
}

export function run(command: readonly string[]): { ok: boolean; out: string } {
  const result = Bun.spawnSync([...command], { stdout: "pipe", stderr: "pipe", timeout: COMMAND_TIMEOUT_MS, env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` } });
  return { ok: result.exitCode === 0, out: `${result.stdout.toString()}${result.stderr.toString()}`.trim() };
}

/** The system users limedb-f1..fN, created when missing (no home, no shell), with their ids. */
export function ensureIdentities(count: number): NodeIdentity[] {
  return Array.from({ length: count }, (_, index) => {
    const user = `${USER_PREFIX}${index + 1}`;
    if (!run(["id", "-u", user]).ok) {
      const added = run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", user]);
      if (!added.ok) throw new Error(`useradd ${user} failed: ${added.out}`);
    }
    const uid = Number(run(["id", "-u", user]).out);
    const gid = Number(run(["id", "-g", user]).out);
    if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) throw new Error(`cannot read the ids of ${user}`);
    return { index, user, uid, gid, address: `127.0.0.${ADDRESS_BASE + index}` };
  });
}

/** Whether `identity`'s user passes every `test` condition given (as sh's test(1) takes them). */
function passesAs(identity: NodeIdentity, conditions: readonly string[]): boolean {
  return run(["setpriv", `--reuid=${identity.uid}`, `--regid=${identity.gid}`, "--clear-groups", "--", "sh", "-c", conditions.map((condition) => `test ${condition}`).join(" && ")]).ok;
}

/** A copy of this bun the node users can run, when they cannot run this one; made once per process. */
let sharedBun: string | undefined;

/**
 * The bun binary the nodes run: this process's own, or, when the node users cannot run it (npx keeps it under
 * root's home, which only root may enter), a copy in a world-readable folder under /tmp.
 */
export function nodeBun(identity: NodeIdentity): string {
  if (sharedBun !== undefined) return sharedBun;
  if (passesAs(identity, [`-x ${process.execPath}`])) return process.execPath;
  const dir = `/tmp/limedb-fault-bun-${Bun.version}`;
  const copy = join(dir, "bun");
  if (!existsSync(copy)) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const partial = `${copy}.${process.pid}`;
    copyFileSync(process.execPath, partial);
    chmodSync(partial, 0o755);
    renameSync(partial, copy);
  }
  chmodSync(dir, 0o755);
  sharedBun = copy;
  return copy;
}

/**
 * Throws, saying what to do, when the node's user cannot read the repo, its dependencies or the bun binary
 * (a checkout under /root, say): every node would otherwise die at start with a bare permission error.
 */
export function assertRunnableBy(identity: NodeIdentity): void {
  const bun = nodeBun(identity);
  if (!passesAs(identity, [`-r ${join(REPO_ROOT, "src", "main.ts")}`, `-r ${join(REPO_ROOT, "node_modules", "elysia", "package.json")}`, `-x ${bun}`])) {
    throw new Error(`the node user ${identity.user} cannot read ${REPO_ROOT}, its node_modules or run ${bun}: every folder above them must be world-readable and -traversable (chmod o+rx) for the fault suite`);
  }
}

/** A port nothing listens on at `address` when asked; a node that finds it taken fails its start. */
export function freePortOn(address: string): number {
  const listener = Bun.listen({ hostname: address, port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/**
 * Runs `command` as the node's user (no groups): what that node's process could reach, it reaches. setpriv
 * execs the command in place, so the pid returned is the command's own and signals reach it.
 */
export function spawnAs(identity: NodeIdentity, command: readonly string[], env: Record<string, string>): Subprocess<"ignore", "ignore", "pipe"> {
  return Bun.spawn(["setpriv", `--reuid=${identity.uid}`, `--regid=${identity.gid}`, "--clear-groups", "--", ...command], {
    cwd: REPO_ROOT,
    env,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
}

/** True when a request from `identity`'s user to `url` is answered within `timeoutMs` (any status). */
export async function reachableAs(identity: NodeIdentity, url: string, timeoutMs: number): Promise<boolean> {
  const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(${timeoutMs}) }).then(() => process.exit(0), () => process.exit(1))`;
  const child = spawnAs(identity, [nodeBun(identity), "-e", script], { PATH: process.env.PATH ?? "", HOME: "/tmp" });
  const exited = await Promise.race([child.exited, Bun.sleep(timeoutMs + COMMAND_TIMEOUT_MS).then(() => undefined)]);
  if (exited === undefined) child.kill("SIGKILL");
  return exited === 0;
}

async function exitedWithin(child: Subprocess, timeoutMs: number): Promise<boolean> {
  return Promise.race([child.exited.then(() => true), Bun.sleep(timeoutMs).then(() => false)]);
}

export interface FaultNodeOptions {
  readonly identity: NodeIdentity;
  readonly port: number;
  /** Owned by the node's user; the same across restarts. */
  readonly dataDir: string;
  /** Root-owned, readable by the node: the file libfaketime reads the clock offset from. */
  readonly clockFile: string;
  /** Every flag but the address, port, URL and data dir. */
  readonly args: readonly string[];
}

/** A node process: started, paused, killed, restarted on the same address, port and data dir, its clock skewed. */
export class FaultNode {
  readonly url: string;
  private child: Subprocess<"ignore", "ignore", "pipe"> | undefined;
  private stderrTail: OutputTail | undefined;
  paused = false;

  constructor(readonly options: FaultNodeOptions) {
    this.url = `http://${options.identity.address}:${options.port}`;
  }

  get identity(): NodeIdentity {
    return this.options.identity;
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  get stderr(): string {
    return this.stderrTail?.text ?? "";
  }

  /** Prepares the data dir and clock file (no offset), starts the process and waits for its health check. */
  async start(): Promise<void> {
    await mkdir(this.options.dataDir, { recursive: true });
    await chown(this.options.dataDir, this.identity.uid, this.identity.gid);
    if (!(await Bun.file(this.options.clockFile).exists())) await this.setClockOffset(0);
    this.spawn();
    await this.waitUntilHealthy();
  }

  /** Takes effect within FAKETIME_CACHE_S; only the wall clock moves, as an NTP step would move it. */
  async setClockOffset(offsetMs: number): Promise<void> {
    const temp = `${this.options.clockFile}.tmp`;
    await writeFile(temp, `${offsetMs < 0 ? "-" : "+"}${Math.abs(offsetMs) / 1000}\n`);
    await chmod(temp, 0o644);
    await rename(temp, this.options.clockFile);
  }

  pause(): void {
    this.child?.kill("SIGSTOP");
    this.paused = true;
  }

  resume(): void {
    this.child?.kill("SIGCONT");
    this.paused = false;
  }

  /** The process state letter from /proc (T when stopped), or undefined when it is not running. */
  async processState(): Promise<string | undefined> {
    const pid = this.pid;
    if (pid === undefined) return undefined;
    const stat = await Bun.file(`/proc/${pid}/stat`).text().catch(() => "");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  }

  async kill9(): Promise<void> {
    const child = this.child;
    if (child === undefined || this.pid === undefined) return;
    child.kill("SIGKILL");
    this.paused = false;
    if (!(await exitedWithin(child, STOP_TIMEOUT_MS))) throw new Error(`node ${this.url} survived SIGKILL for ${STOP_TIMEOUT_MS} ms`);
  }

  /** SIGCONT, then SIGINT (stop at once, no hand-off), then SIGKILL when it does not exit within the bound. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || this.pid === undefined) return;
    child.kill("SIGCONT");
    child.kill("SIGINT");
    if (!(await exitedWithin(child, STOP_TIMEOUT_MS))) await this.kill9();
  }

  async restart(): Promise<void> {
    await this.stop();
    this.spawn();
    await this.waitUntilHealthy();
  }

  private spawn(): void {
    const { identity, port, dataDir, clockFile, args } = this.options;
    const flags = ["-server.host", identity.address, "-server.port", String(port), "-node.url", this.url, "-data.dir", dataDir, ...args];
    // The node's own folder: bun may keep caches under HOME, and the node user has no home of its own.
    const env = { ...NODE_PROCESS_ENV, PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dataDir };
    // libfaketime is preloaded through env(1), after setpriv, so root's setpriv never loads it: a root process
    // would create libfaketime's shared semaphore, which the node user then could not open. env execs in
    // place too, so the pid is still bun's. The offset comes from the file, which setClockOffset rewrites.
    const clock = [
      `LD_PRELOAD=${LIBFAKETIME}`,
      `FAKETIME_TIMESTAMP_FILE=${clockFile}`,
      `FAKETIME_CACHE_DURATION=${FAKETIME_CACHE_S}`,
      "FAKETIME_DISABLE_SHM=1",
      // Only the wall clock is skewed, as an NTP step skews it; timers keep the real monotonic clock.
      "DONT_FAKE_MONOTONIC=1",
    ];
    const child = spawnAs(identity, ["env", ...clock, nodeBun(identity), "src/main.ts", ...flags], env);
    this.child = child;
    this.paused = false;
    livePids.add(child.pid);
    void child.exited.then(() => livePids.delete(child.pid));
    this.stderrTail = new OutputTail(child.stderr, STDERR_CHARS_MAX);
  }

  private async waitUntilHealthy(): Promise<void> {
    const deadline = performance.now() + START_TIMEOUT_MS;
    let last = "no answer yet";
    while (performance.now() < deadline) {
      if (this.pid === undefined) throw new Error(`node ${this.url} exited before it answered its health check; stderr:\n${this.stderr}`);
      try {
        const response = await fetch(`${this.url}/api/v1/health`, { signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS) });
        last = `${response.status}`;
        if (response.status === 200) return;
      } catch (error) {
        last = String(error);
      }
      await Bun.sleep(HEALTH_POLL_INTERVAL_MS);
    }
    await this.kill9();
    throw new Error(`node ${this.url} did not answer its health check within ${START_TIMEOUT_MS} ms (last: ${last}); stderr:\n${this.stderr}`);
  }
}

/**
 * The node users, addresses and iptables chain are the machine's, so one fault run at a time: a second one
 * would heal the first one's cuts. Takes the lock file (or one left by a process that is gone); throws when
 * a live process holds it. Returns the release.
 */
export function lockMachine(path = LOCK_FILE): () => void {
  const holder = Number(existsSync(path) ? readFileSync(path, "utf8").trim() : "");
  if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) throw new Error(`another fault run (pid ${holder}) holds ${path}; one fault run per machine at a time`);
  writeFileSync(path, String(process.pid));
  return () => {
    if (existsSync(path) && readFileSync(path, "utf8").trim() === String(process.pid)) rmSync(path, { force: true });
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills every node this process started, at once and without waiting: for an interrupted or failed run. */
export function killAllStarted(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, "SIGCONT");
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
