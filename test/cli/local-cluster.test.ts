// `bun run cluster`: the pure plan (ports, URLs, seeds, data dirs, env checks) and real runs of the script.
import { describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { join } from "node:path";
import { BASE_PORT_DEFAULT, DATA_DIR_DEFAULT, NUM_NODES_DEFAULT, planCluster, seedIndex, type ClusterPlan } from "../../src/cli/local-cluster-plan.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { SETTINGS } from "../../src/config/settings.ts";
import { freePortRange } from "../support/free-port-range.ts";
import { tempDir } from "../support/temp-dir.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const CWD = "/home/ada/limedb";

function plan(env: Record<string, string>): ClusterPlan {
  const result = planCluster(env, CWD);
  if (!result.ok) throw new Error(`expected a plan, got: ${result.error}`);
  return result.plan;
}

describe("the local cluster plan", () => {
  test("gives every node the environment's CLUSTER_SECRET, or one made for the run when none is set", () => {
    const made = planCluster({}, CWD, () => "made-for-this-run");
    expect(made.ok && made.plan.secret).toBe("made-for-this-run");
    expect(made.ok && made.plan.secretGenerated).toBe(true);
    const given = plan({ CLUSTER_SECRET: "ours" });
    expect(given.secret).toBe("ours");
    expect(given.secretGenerated).toBe(false);
    expect(plan({}).secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(plan({}).secret).not.toBe(plan({}).secret);
  });

  test("refuses a CLUSTER_SECRET that cannot travel in a header, without echoing it", () => {
    const result = planCluster({ CLUSTER_SECRET: "sécret" }, CWD);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain("CLUSTER_SECRET");
    expect(!result.ok && result.error).not.toContain("sécret");
  });

  test("with no settings it places four nodes on ports 7001 to 7004 under ./data/cluster", () => {
    const { nodes, dataDir } = plan({});
    expect(nodes.length).toBe(NUM_NODES_DEFAULT);
    expect(nodes.map((n) => n.port)).toEqual([7001, 7002, 7003, 7004]);
    expect(nodes.map((n) => n.url)).toEqual(["http://127.0.0.1:7001", "http://127.0.0.1:7002", "http://127.0.0.1:7003", "http://127.0.0.1:7004"]);
    expect(dataDir).toBe(join(CWD, DATA_DIR_DEFAULT));
    expect(nodes.map((n) => n.dataDir)).toEqual([7001, 7002, 7003, 7004].map((port) => join(CWD, "data", "cluster", `node-${port}`)));
    expect(BASE_PORT_DEFAULT).toBe(7001);
  });

  test.each([
    ["1", "9000", [9000]],
    ["3", "20000", [20000, 20001, 20002]],
    ["32", "65504", Array.from({ length: 32 }, (_, i) => 65504 + i)],
    [" 2 ", " 65534 ", [65534, 65535]],
  ])("NUM_NODES=%p and BASE_PORT=%p give consecutive ports from the base", (count, base, ports) => {
    const { nodes } = plan({ NUM_NODES: count, BASE_PORT: base });
    expect(nodes.map((n) => n.port)).toEqual(ports);
    expect(nodes.map((n) => n.url)).toEqual(ports.map((port) => `http://127.0.0.1:${port}`));
    expect(nodes.map((n) => n.name)).toEqual(ports.map((port) => `node-${port}`));
  });

  test.each([
    [2, 0, 1],
    [2, 1, 0],
    [4, 0, 1],
    [4, 1, 0],
    [4, 3, 0],
  ])("in a cluster of %p, node %p seeds from node %p", (count, index, seed) => {
    expect(seedIndex(index, count)).toBe(seed);
  });

  test("the first node seeds from the second and every other node from the first", () => {
    const { nodes } = plan({ NUM_NODES: "5", BASE_PORT: "8000" });
    expect(nodes.map((n) => n.seeds)).toEqual([["http://127.0.0.1:8001"], ...Array.from({ length: 4 }, () => ["http://127.0.0.1:8000"])]);
    for (const node of nodes) expect(node.seeds).not.toContain(node.url);
  });

  test("a single node has no seed", () => {
    expect(seedIndex(0, 1)).toBeUndefined();
    expect(plan({ NUM_NODES: "1" }).nodes.map((n) => n.seeds)).toEqual([[]]);
  });

  test.each([
    ["/srv/limedb", "/srv/limedb"],
    ["tmp/c", join(CWD, "tmp", "c")],
    ["  ", join(CWD, "data", "cluster")],
  ])("DATA_DIR=%p puts the node folders under %p", (dir, expected) => {
    const { nodes, dataDir } = plan({ DATA_DIR: dir, NUM_NODES: "2" });
    expect(dataDir).toBe(expected);
    expect(nodes.map((n) => n.dataDir)).toEqual([join(expected, "node-7001"), join(expected, "node-7002")]);
  });

  test.each([
    ["NUM_NODES=0", { NUM_NODES: "0" }, 'invalid NUM_NODES "0": expected an integer from 1 to 32'],
    ["NUM_NODES=33", { NUM_NODES: "33" }, 'invalid NUM_NODES "33": expected an integer from 1 to 32'],
    ["NUM_NODES=four", { NUM_NODES: "four" }, 'invalid NUM_NODES "four": expected an integer from 1 to 32'],
    ["NUM_NODES=2.5", { NUM_NODES: "2.5" }, 'invalid NUM_NODES "2.5": expected an integer from 1 to 32'],
    ["BASE_PORT=0", { BASE_PORT: "0" }, 'invalid BASE_PORT "0": expected an integer from 1 to 65532'],
    ["BASE_PORT=http", { BASE_PORT: "http" }, 'invalid BASE_PORT "http": expected an integer from 1 to 65532'],
    ["BASE_PORT=65533 with four nodes", { BASE_PORT: "65533" }, 'invalid BASE_PORT "65533": expected an integer from 1 to 65532'],
    ["BASE_PORT=65536 with one node", { NUM_NODES: "1", BASE_PORT: "65536" }, 'invalid BASE_PORT "65536": expected an integer from 1 to 65535'],
    ["STORE_BACKEND=redis", { STORE_BACKEND: "redis" }, 'invalid STORE_BACKEND "redis": expected one of memory, fs, sqlite'],
    ["VIRTUAL_NODES=-1", { VIRTUAL_NODES: "-1" }, 'invalid VIRTUAL_NODES "-1"'],
    ["GOSSIP_INTERVAL_MS=5000", { GOSSIP_INTERVAL_MS: "5000" }, 'invalid GOSSIP_STALE_AFTER_MS "3000"'],
  ])("%s is refused with one line naming the setting", (_, env, message) => {
    const result = planCluster(env, CWD);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toStartWith(message);
    expect(result.error).not.toContain("\n");
  });

  test("each node's flags give the node its planned port, URL, data dir and seed even against a stray environment", () => {
    const stray = { SERVER_PORT: "1", SERVER_HOST: "0.0.0.0", NODE_URL: "http://127.0.0.2:1", NODE_PEERS: "http://127.0.0.2:2", DATA_DIR: "/srv/x" };
    const { nodes } = plan({ ...stray, NUM_NODES: "3" });
    for (const node of nodes) {
      const parsed = parseConfig(node.args, stray);
      if (!parsed.ok) throw new Error(`node flags do not parse: ${JSON.stringify(parsed)}`);
      expect(parsed.config.serverPort).toBe(node.port);
      expect(parsed.config.serverHost).toBe("127.0.0.1");
      expect(parsed.config.nodeUrl).toBe(node.url);
      expect(parsed.config.dataDir).toBe(node.dataDir);
      expect(parsed.config.nodePeers).toEqual([...node.seeds]);
    }
  });
});

/** Real runs: bounded so that a hung script fails the test instead of the suite. */
const READY_TIMEOUT_MS = 40_000;
const EXIT_TIMEOUT_MS = 20_000;
const OUTPUT_CHARS_MAX = 256 * 1024;

/** The environment of this test without any LimeDB setting, so a developer's shell cannot change the run. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const names = new Set<string>([...Object.values(SETTINGS).map((s) => s.env), "NUM_NODES", "BASE_PORT"]);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !names.has(name)) env[name] = value;
  return { ...env, ...extra };
}

/** `bun src/cli/local-cluster.ts` as a child process; stopped (and its nodes with it) when the test scope ends. */
class ClusterScript implements AsyncDisposable {
  stdout = "";
  stderr = "";
  readonly process: Subprocess<"ignore", "pipe", "pipe">;
  private readonly output: Promise<void>;

  constructor(env: Record<string, string>) {
    this.process = Bun.spawn([process.execPath, "src/cli/local-cluster.ts"], { cwd: REPO_ROOT, env: cleanEnv(env), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    this.output = Promise.all([this.pump(this.process.stdout, "stdout"), this.pump(this.process.stderr, "stderr")]).then(() => undefined);
  }

  private async pump(stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr"): Promise<void> {
    const decoder = new TextDecoder();
    for (const reader = stream.getReader(); ; ) {
      const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (done) return;
      this[into] = (this[into] + decoder.decode(value, { stream: true })).slice(-OUTPUT_CHARS_MAX);
    }
  }

  /** Waits for a stdout line matching `pattern`; fails if the script exits first or the bound passes. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = this.stdout.split("\n").find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (this.process.exitCode !== null || this.process.signalCode !== null) throw new Error(`the script exited (${this.process.exitCode}) before ${pattern}:\n${this.stdout}\n${this.stderr}`);
      if (performance.now() > deadline) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
      await Bun.sleep(50);
    }
  }

  /** The nodes the script announced: `cluster: node-<port> <url> data <dir> pid <pid>`. */
  announcedNodes(): { url: string; dataDir: string; pid: number }[] {
    const lines = [...this.stdout.matchAll(/^cluster: node-\d+ (\S+) data (\S+) pid (\d+)$/gm)];
    return lines.map(([, url = "", dataDir = "", pid = "0"]) => ({ url, dataDir, pid: Number(pid) }));
  }

  /** Resolves with the exit code, or undefined when the script still runs after the bound. */
  async exitWithin(timeoutMs: number): Promise<number | null | undefined> {
    const exited = await Promise.race([this.process.exited.then(() => true), Bun.sleep(timeoutMs).then(() => false)]);
    if (!exited) return undefined;
    await this.output;
    return this.process.exitCode;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill("SIGTERM");
    if ((await this.exitWithin(EXIT_TIMEOUT_MS)) !== undefined) return;
    // The script did not stop its nodes: kill it and the nodes it announced, which this test started through it.
    this.process.kill("SIGKILL");
    for (const { pid } of this.announcedNodes()) killIfAlive(pid);
  }
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

async function portIsClosed(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
    return false;
  } catch {
    return true;
  }
}

async function membersOf(url: string): Promise<unknown> {
  const response = await fetch(`${url}/api/v1/cluster/state`, { signal: AbortSignal.timeout(2_000) });
  const body: unknown = await response.json();
  return typeof body === "object" && body !== null && "peers" in body ? body.peers : undefined;
}

/** Fast gossip so that three nodes form in well under a second. */
const FAST_GOSSIP = { STORE_BACKEND: "memory", GOSSIP_INTERVAL_MS: "200", GOSSIP_STALE_AFTER_MS: "800", GOSSIP_DEAD_AFTER_MS: "1500" };

describe("the local cluster script", () => {
  test("starts three nodes that all see each other, and on SIGINT stops them all and exits 0", async () => {
    await using dir = await tempDir("limedb-cluster-");
    const basePort = freePortRange(3);
    const ports = [basePort, basePort + 1, basePort + 2];
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    await using script = new ClusterScript({ ...FAST_GOSSIP, NUM_NODES: "3", BASE_PORT: String(basePort), DATA_DIR: dir.path });

    await script.waitForLine(/^cluster: ready: 3 nodes/, READY_TIMEOUT_MS);
    const announced = script.announcedNodes();
    expect(announced.map((n) => n.url)).toEqual(urls);
    expect(announced.map((n) => n.dataDir)).toEqual(ports.map((port) => join(dir.path, `node-${port}`)));
    for (const { url } of announced) expect(await membersOf(url)).toEqual([...urls].sort());
    expect(script.stdout).toContain(`node-${basePort} | {`);
    // No CLUSTER_SECRET was given, so the script made one: the internal routes are not open to anyone on the machine.
    expect(script.stdout).toContain("CLUSTER_SECRET made for this run");
    const internal = await fetch(`${urls[0]}/api/v1/replica/get/k`, { signal: AbortSignal.timeout(2_000) });
    expect(internal.status).toBe(401);

    script.process.kill("SIGINT");
    expect(await script.exitWithin(EXIT_TIMEOUT_MS)).toBe(0);
    expect(script.stdout).toContain("cluster: all nodes stopped");
    for (const port of ports) expect(await portIsClosed(port)).toBe(true);
  }, 90_000);

  test("stops the other nodes and exits 1 when a node cannot start", async () => {
    await using dir = await tempDir("limedb-cluster-");
    const basePort = freePortRange(3);
    // The middle node's port is taken, so that node exits at start.
    const squatter = Bun.listen({ hostname: "127.0.0.1", port: basePort + 1, socket: { data() {} } });
    try {
      await using script = new ClusterScript({ ...FAST_GOSSIP, NUM_NODES: "3", BASE_PORT: String(basePort), DATA_DIR: dir.path });
      expect(await script.exitWithin(READY_TIMEOUT_MS)).toBe(1);
      expect(script.stderr).toContain(`cluster: node-${basePort + 1} (http://127.0.0.1:${basePort + 1}) exited with code 1 before the cluster formed; stopping the others`);
      for (const port of [basePort, basePort + 2]) expect(await portIsClosed(port)).toBe(true);
    } finally {
      squatter.stop(true);
    }
  }, 90_000);

  test.each([
    ["NUM_NODES=40", { NUM_NODES: "40" }, 'cluster: invalid NUM_NODES "40": expected an integer from 1 to 32\n'],
    ["BASE_PORT=port", { BASE_PORT: "port" }, 'cluster: invalid BASE_PORT "port": expected an integer from 1 to 65532 (so that 4 consecutive ports fit below 65536)\n'],
  ])("with %s it starts nothing, says one line and exits 2", async (_, env, line) => {
    await using script = new ClusterScript(env);
    expect(await script.exitWithin(EXIT_TIMEOUT_MS)).toBe(2);
    expect(script.stderr).toBe(line);
    expect(script.stdout).toBe("");
  });
});
