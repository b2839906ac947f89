// Where a replicated write's cost lies: one node's bus driven directly with replica puts from another process, a
// memory node against a sqlite node, and the CPU each server spends per put. The memory node's figure is the bus and
// the replica path with next to no store; the difference is what the sqlite store adds to every copy.
import { tempDir } from "./cleanup.ts";
import { ONE_COPY, startCluster } from "./cluster-nodes.ts";
import { againstBaseline, type Figure } from "./figures.ts";
import { processCpu } from "./process-cpu.ts";
import { REPO_ROOT } from "./server-process.ts";
import { WARMUP_S, type LoadBackend } from "./wrk.ts";

/** Replica puts in flight: about what wrk's 64 connections on a coordinator keep going to each replica. */
const CALLERS = 64;
const RUN_S = 2;
const ROUNDS = 2;
const BACKENDS: readonly LoadBackend[] = ["memory", "sqlite"];

interface Run {
  readonly putsPerS: number;
  /** Server CPU per put, user and system, in µs; NaN where /proc cannot tell. */
  readonly cpuUs: number;
  readonly systemUs: number;
}

async function drive(url: string, pid: number, seconds: number): Promise<Run> {
  const before = processCpu(pid);
  const driver = Bun.spawn([process.execPath, "bench/replica-put-load.ts", url, String(seconds), String(CALLERS)], { cwd: REPO_ROOT, stdout: "pipe", stderr: "inherit" });
  const text = await new Response(driver.stdout).text();
  if ((await driver.exited) !== 0) throw new Error(`bench: the replica-put driver failed against ${url}`);
  const after = processCpu(pid);
  const { puts, putsPerS, failures } = JSON.parse(text) as { puts: number; putsPerS: number; failures: number };
  if (failures > 0 || puts === 0) throw new Error(`bench: ${failures} of the replica puts to ${url} failed`);
  const perPut = (seconds: number) => (seconds * 1e6) / puts;
  return {
    putsPerS,
    cpuUs: before === undefined || after === undefined ? Number.NaN : perPut(after.user + after.system - before.user - before.system),
    systemUs: before === undefined || after === undefined ? Number.NaN : perPut(after.system - before.system),
  };
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

export async function benchReplicaPuts(): Promise<{ figures: Figure[]; notes: string[]; commands: string[] }> {
  await using stack = new AsyncDisposableStack();
  const dir = stack.use(await tempDir("limedb-bench-replica-puts-"));
  const nodes = new Map<LoadBackend, { url: string; pid: number }>();
  const commands: string[] = [];
  for (const backend of BACKENDS) {
    const cluster = await startCluster(stack, 1, { dataDir: `${dir.path}/${backend}`, backend, replication: ONE_COPY });
    nodes.set(backend, { url: cluster.urls[0]!, pid: cluster.servers[0]!.pid });
    commands.push(...cluster.shown);
  }
  for (const { url, pid } of nodes.values()) await drive(url, pid, WARMUP_S);
  // In rotation, so a slow moment of the machine falls on both.
  const runs = new Map<LoadBackend, Run[]>(BACKENDS.map((backend) => [backend, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [backend, { url, pid }] of nodes) runs.get(backend)!.push(await drive(url, pid, RUN_S));
  }
  const summary = (backend: LoadBackend) => {
    const of = runs.get(backend)!;
    const cpuUs = mean(of.map((run) => run.cpuUs));
    return {
      name: `${backend} node`,
      value: mean(of.map((run) => run.putsPerS)),
      cpuUs,
      detail: `server CPU ${cpuUs.toFixed(1)} µs per put (system ${mean(of.map((run) => run.systemUs)).toFixed(1)}); runs ${of.map((run) => Math.round(run.putsPerS)).join(", ")}`,
    };
  };
  const [memory, sqlite] = [summary("memory"), summary("sqlite")];
  const group = `replica puts over the bus, ${CALLERS} in flight from another process, one node`;
  return {
    figures: againstBaseline("replication", group, "ops/s", memory, [sqlite]),
    notes: [
      `Replica puts driven straight at one node's bus (bench/replica-put-load.ts: ${CALLERS} in flight, 64-byte values over 5,000 keys, the calls of one turn in one frame): a sqlite node takes ${(sqlite.value / memory.value).toFixed(2)}× the puts/s of a memory node and spends ${sqlite.cpuUs.toFixed(1)} µs of CPU per put against ${memory.cpuUs.toFixed(1)}. The memory node's figure is what the bus and the replica path cost a replica; the difference is the sqlite store's (a B-tree upsert and its pages in the write-ahead log, once per copy). At three copies every write pays it on every replica, which is why three sqlite copies cost more against one node than three memory copies do.`,
    ],
    commands: [...commands, `bun bench/replica-put-load.ts http://127.0.0.1:$PORT ${RUN_S} ${CALLERS}`],
  };
}
