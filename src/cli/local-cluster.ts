// `bun run cluster`: runs the planned nodes as child processes, waits until each sees all, stops them all on Ctrl-C.
import type { Subprocess } from "bun";
import { join } from "node:path";
import { nodeClient } from "../client/node-client.ts";
import { planCluster, type PlannedNode } from "./local-cluster-plan.ts";
import { nodeProcessEnv } from "../config/process-env.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const MAIN_PATH = join(REPO_ROOT, "src", "main.ts");
/** Exit codes: a bad setting (as the node uses), a cluster that did not form or died. Ctrl-C is a normal end: 0. */
const EXIT_BAD_SETTING = 2;
const EXIT_FAILED = 1;
/** A cluster forms in a few gossip rounds (1 s each by default); 30 s leaves room for 32 nodes on a loaded machine. */
const READY_TIMEOUT_MS = 30_000;
const READY_POLL_INTERVAL_MS = 200;
const STATE_REQUEST_TIMEOUT_MS = 1_000;
/** A node drains and closes its store on SIGTERM in well under a second; past this bound it is killed. */
const STOP_TIMEOUT_MS = 10_000;
/** The last lines of a node's output are forwarded before exit, but a stuck pipe cannot hold the exit up. */
const OUTPUT_FLUSH_TIMEOUT_MS = 1_000;
/** A line without a newline is forwarded once this long, so a node cannot grow the buffer without bound. */
const LINE_CHARS_MAX = 64 * 1024;

type NodeChild = Subprocess<"ignore", "pipe", "pipe">;

interface RunningNode {
  readonly node: PlannedNode;
  readonly child: NodeChild;
  /** Settles when both output streams have been forwarded to the end. */
  readonly output: Promise<void>;
}

type Formation =
  | { readonly kind: "ready"; readonly elapsedMs: number }
  | { readonly kind: "exited"; readonly running: RunningNode }
  | { readonly kind: "timeout"; readonly views: readonly string[] }
  | { readonly kind: "stopping" };

function say(line: string): void {
  process.stdout.write(`cluster: ${line}\n`);
}

function complain(line: string): void {
  process.stderr.write(`cluster: ${line}\n`);
}

/** Copies a stream to `write` line by line, each line led by `prefix`. */
async function forwardLines(stream: ReadableStream<Uint8Array>, prefix: string, write: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let pending = "";
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    if (pending.length > LINE_CHARS_MAX) {
      lines.push(pending);
      pending = "";
    }
    if (lines.length > 0) write(lines.map((line) => `${prefix}${line}\n`).join(""));
  }
  pending += decoder.decode();
  if (pending !== "") write(`${prefix}${pending}\n`);
}

function spawnNode(node: PlannedNode, secret: string): RunningNode {
  // The Bun running this script runs the nodes too; they inherit the environment (STORE_BACKEND, ...). The secret
  // travels in the environment, never as a flag, which any user of the machine could read with ps.
  const child = Bun.spawn([process.execPath, MAIN_PATH, ...node.args], {
    cwd: REPO_ROOT,
    env: nodeProcessEnv(process.env, { CLUSTER_SECRET: secret }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const prefix = `${node.name} | `;
  const output = Promise.all([
    forwardLines(child.stdout, prefix, (text) => process.stdout.write(text)),
    forwardLines(child.stderr, prefix, (text) => process.stderr.write(text)),
  ]).then(() => undefined);
  return { node, child, output };
}

function hasExited(running: RunningNode): boolean {
  return running.child.exitCode !== null || running.child.signalCode !== null;
}

function describeExit(running: RunningNode): string {
  const { exitCode, signalCode } = running.child;
  return exitCode === null ? `was killed by ${String(signalCode)}` : `exited with code ${exitCode}`;
}

/** Resolves true when the child exited within the bound. */
async function exitedWithin(child: NodeChild, timeoutMs: number): Promise<boolean> {
  let timer: Timer | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const exited = await Promise.race([child.exited.then(() => true), timeout]);
  clearTimeout(timer);
  return exited;
}

/** The members a node's /api/v1/cluster/state lists, or undefined while it does not answer. */
async function membersSeen(url: string): Promise<readonly string[] | undefined> {
  try {
    return (await nodeClient(url, STATE_REQUEST_TIMEOUT_MS).state()).peers;
  } catch {
    return undefined;
  }
}

/** The processes of one local cluster: started together, watched, and stopped together exactly once. */
class LocalCluster {
  private stopping = false;

  constructor(readonly nodes: readonly RunningNode[]) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Polls every node's cluster state until each lists all nodes, a node exits, a stop begins, or the bound passes. */
  async waitUntilFormed(timeoutMs: number): Promise<Formation> {
    const startedMs = performance.now();
    const urls = this.nodes.map((running) => running.node.url);
    for (;;) {
      if (this.stopping) return { kind: "stopping" };
      const dead = this.nodes.find(hasExited);
      if (dead !== undefined) return { kind: "exited", running: dead };
      const seen = await Promise.all(urls.map(membersSeen));
      if (seen.every((members) => members !== undefined && urls.every((url) => members.includes(url)))) {
        return { kind: "ready", elapsedMs: performance.now() - startedMs };
      }
      if (performance.now() - startedMs > timeoutMs) {
        const views = seen.map((members, i) => `${urls[i]} sees ${members === undefined ? "nothing (no answer)" : `${members.length} of ${urls.length}`}`);
        return { kind: "timeout", views };
      }
      await Bun.sleep(READY_POLL_INTERVAL_MS);
    }
  }

  /** Reports a node that ends while the cluster runs; the others keep running, and the script ends with the last. */
  watchExits(): void {
    for (const running of this.nodes) {
      void running.child.exited.then(() => {
        if (this.stopping) return;
        const left = this.nodes.filter((other) => !hasExited(other)).length;
        complain(`${running.node.name} (${running.node.url}) ${describeExit(running)}; ${left} of ${this.nodes.length} nodes still run`);
        if (left === 0) void this.stop(EXIT_FAILED, "every node has exited");
      });
    }
  }

  /** SIGTERM to every node, SIGKILL to any still running after the bound, then exits with `exitCode`. */
  async stop(exitCode: number, reason: string): Promise<never> {
    if (this.stopping) {
      // A second Ctrl-C means now: no more waiting for a graceful stop.
      for (const running of this.nodes) if (!hasExited(running)) running.child.kill("SIGKILL");
      return new Promise<never>(() => {});
    }
    this.stopping = true;
    say(`stopping ${this.nodes.length} nodes (${reason})`);
    for (const running of this.nodes) if (!hasExited(running)) running.child.kill("SIGTERM");
    const killed = await Promise.all(this.nodes.map((running) => this.stopOne(running)));
    await Promise.race([Promise.all(this.nodes.map((running) => running.output)), Bun.sleep(OUTPUT_FLUSH_TIMEOUT_MS)]);
    const forced = killed.filter((name) => name !== undefined);
    if (forced.length > 0) complain(`killed ${forced.join(", ")} after ${STOP_TIMEOUT_MS} ms without stopping on SIGTERM`);
    say("all nodes stopped");
    process.exit(exitCode);
  }

  /** Waits for one node to end after SIGTERM; kills it past the bound and returns its name then. */
  private async stopOne(running: RunningNode): Promise<string | undefined> {
    if (await exitedWithin(running.child, STOP_TIMEOUT_MS)) return undefined;
    running.child.kill("SIGKILL");
    await exitedWithin(running.child, STOP_TIMEOUT_MS);
    return running.node.name;
  }

  /** The last resort on an unexpected exit of this script: no node may outlive it. */
  killAllNow(): void {
    for (const running of this.nodes) if (!hasExited(running)) running.child.kill("SIGKILL");
  }
}

async function main(): Promise<void> {
  const planned = planCluster(process.env, process.cwd());
  if (!planned.ok) {
    complain(planned.error);
    process.exit(EXIT_BAD_SETTING);
  }
  const { plan } = planned;
  say(`starting ${plan.nodes.length} nodes on 127.0.0.1, data under ${plan.dataDir}`);
  if (plan.secretGenerated) say("the nodes share a CLUSTER_SECRET made for this run; export CLUSTER_SECRET to choose one (to call internal routes yourself)");
  const cluster = new LocalCluster(plan.nodes.map((node) => spawnNode(node, plan.secret)));
  process.on("exit", () => cluster.killAllNow());
  process.on("SIGINT", () => void cluster.stop(0, "SIGINT"));
  process.on("SIGTERM", () => void cluster.stop(0, "SIGTERM"));
  for (const { node, child } of cluster.nodes) say(`${node.name} ${node.url} data ${node.dataDir} pid ${child.pid}`);

  const formation = await cluster.waitUntilFormed(READY_TIMEOUT_MS);
  switch (formation.kind) {
    case "stopping":
      return;
    case "exited": {
      const { node, child } = formation.running;
      complain(`${node.name} (${node.url}) ${describeExit(formation.running)} before the cluster formed; stopping the others`);
      await cluster.stop(child.exitCode === EXIT_BAD_SETTING ? EXIT_BAD_SETTING : EXIT_FAILED, "a node failed to start");
      return;
    }
    case "timeout":
      complain(`the cluster did not form within ${READY_TIMEOUT_MS} ms: ${formation.views.join("; ")}`);
      await cluster.stop(EXIT_FAILED, "the cluster did not form");
      return;
    case "ready":
      if (cluster.isStopping) return;
      cluster.watchExits();
      say(`ready: ${plan.nodes.length} nodes, each sees all ${plan.nodes.length} (${Math.round(formation.elapsedMs)} ms); Ctrl-C stops them all`);
  }
}

await main();
