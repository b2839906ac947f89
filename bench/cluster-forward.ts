// Forwarded against direct requests on a 2-node cluster with wrk: keys the receiving node owns vs keys it sends one hop on.
import { join } from "node:path";
import { VIRTUAL_NODES_DEFAULT } from "../src/config/settings.ts";
import { buildRing, ownerOf } from "../src/ring/ring.ts";
import { tempDir } from "./cleanup.ts";
import { nodeCommand, nodeUrlOf, ONE_COPY, startCluster } from "./cluster-nodes.ts";
import { againstBaseline, type Figure } from "./figures.ts";
import { preload } from "./preload.ts";
import { freePort, REPO_ROOT, REQUEST_TIMEOUT_MS, startServer } from "./server-process.ts";
import { measureInRotation, runWrk, wrkDetail, type LoadResult, type Rotation, KEYS_SCRIPT, LOAD_VALUE, WARMUP_S, WRK_CONNECTIONS, WRK_THREADS, type LoadBackend, type LoadShape } from "./wrk.ts";

/** Keys per list preloaded before the GET runs; the GET load cycles over exactly these. */
const GET_KEYS = 1_000;
/** Keys per list the SET load writes over. */
const SET_KEYS = 5_000;
/** Names tried when splitting keys by owner; with two nodes about half land on each, so this never binds. */
const NAMES_MAX = 100 * SET_KEYS;
/** Seconds per wrk run; BENCH_CLUSTER_S shortens or lengthens it. */
const RUN_S = Number(process.env.BENCH_CLUSTER_S ?? 2);
/**
 * One warm-up per load and shape (WARMUP_S: forwarding handlers compile too), then each figure adds up two
 * runs, alternating between the loads: two rounds rather than three keep the whole bench within a few
 * minutes, and the rotation still spreads drift over every load.
 */
const ROTATION: Rotation = { warmupS: WARMUP_S, rounds: 2, runS: RUN_S };

const SHAPE_LABELS: Record<LoadShape, string> = {
  get: `GET, ${GET_KEYS / 1000}k preloaded keys per list`,
  set: `SET, ${SET_KEYS / 1000}k-key space per list`,
};

/** The cluster's backends, and the raw pair (bench/raw-forward.ts): the floor of a hop in Bun on this machine. */
type ForwardBackend = LoadBackend | "raw";

/** The group a backend's rows are in. */
const BACKEND_LABELS: Record<ForwardBackend, string> = { memory: "memory, 2 nodes", sqlite: "sqlite, 2 nodes", raw: "raw Bun.serve pair (floor)" };

/** One wrk target: a node and a key list file. */
interface Load {
  readonly backend: ForwardBackend;
  readonly name: string;
  readonly url: string;
  readonly keysFile: string;
  readonly shown: (text: string) => string;
}

/** Splits bench-0, bench-1, … by owner on the ring the two nodes build, until each has `perList` keys. */
export function splitByOwner(receiver: string, other: string, vnodesPerNode: number, perList: number): { direct: string[]; forwarded: string[] } {
  const ring = buildRing([receiver, other], vnodesPerNode);
  const direct: string[] = [];
  const forwarded: string[] = [];
  for (let n = 0; (direct.length < perList || forwarded.length < perList) && n < NAMES_MAX; n++) {
    const key = `bench-${n}`;
    const list = ownerOf(ring, key) === receiver ? direct : forwarded;
    if (list.length < perList) list.push(key);
  }
  if (direct.length < perList || forwarded.length < perList) throw new Error(`bench: ${NAMES_MAX} names did not give ${perList} keys to each node`);
  return { direct, forwarded };
}

/** The GET answer names the node that holds the key: proof that the lists split the keys as the nodes do. */
async function expectHolder(url: string, key: string, holder: string): Promise<void> {
  const response = await fetch(`${url}/api/v1/get/${key}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = (await response.json()) as { nodeUrl?: unknown };
  if (!response.ok || body.nodeUrl !== holder) {
    throw new Error(`bench: GET ${key} through ${url} answered ${response.status} from ${String(body.nodeUrl)}, expected ${holder}`);
  }
}

/** A 2-node cluster of `backend`, preloaded through its first node; returns the direct and forwarded loads. */
async function clusterLoads(stack: AsyncDisposableStack, backend: LoadBackend, commands: string[]): Promise<Load[]> {
  const dir = stack.use(await tempDir(`limedb-bench-cluster-${backend}-`));
  // One copy: at the default (3 copies, capped at 2 nodes) both nodes hold every key and nothing is forwarded.
  const cluster = await startCluster(stack, 2, { dataDir: dir.path, backend, replication: ONE_COPY });
  const [receiver, other] = cluster.urls as [string, string];
  commands.push(...cluster.shown);
  return splitLoads(backend, dir.path, receiver, other, [`direct: node A owns the keys`, `forwarded: node B owns them, one hop`]);
}

/** The raw pair (bench/raw-forward.ts): a front that forwards, as node A does, and an owner. */
async function rawLoads(stack: AsyncDisposableStack, commands: string[]): Promise<Load[]> {
  const dir = stack.use(await tempDir("limedb-bench-raw-forward-"));
  const [ownerPort, frontPort] = [freePort(), freePort()];
  const [owner, front] = [nodeUrlOf(ownerPort), nodeUrlOf(frontPort)];
  const command = (...args: (string | number)[]) => ["bun", "bench/raw-forward.ts", ...args.map(String)];
  stack.use(await startServer(command("owner", ownerPort), owner));
  stack.use(await startServer(command("front", frontPort, ownerPort), front));
  commands.push(command("owner", "$PORT_B").join(" "), command("front", "$PORT", "$PORT_B").join(" "));
  return splitLoads("raw", dir.path, front, owner, ["direct: the front owns the keys", "forwarded: the owner holds them, one hop"]);
}

/** Splits the keys between `receiver` and `other` as their ring does, preloads them through `receiver`, checks who answers. */
async function splitLoads(backend: ForwardBackend, dir: string, receiver: string, other: string, names: readonly [string, string]): Promise<Load[]> {
  const keys = splitByOwner(receiver, other, VIRTUAL_NODES_DEFAULT, SET_KEYS);
  await preload([receiver], [...keys.direct.slice(0, GET_KEYS), ...keys.forwarded.slice(0, GET_KEYS)], LOAD_VALUE);
  await expectHolder(receiver, keys.direct[0]!, receiver);
  await expectHolder(receiver, keys.forwarded[0]!, other);
  const directFile = join(dir, "keys-direct.txt");
  const forwardedFile = join(dir, "keys-forwarded.txt");
  await Bun.write(directFile, `${keys.direct.join("\n")}\n`);
  await Bun.write(forwardedFile, `${keys.forwarded.join("\n")}\n`);
  const port = new URL(receiver).port;
  const shown = (text: string) => text.replaceAll(dir, "$TMP").replaceAll(`${REPO_ROOT}/`, "").replaceAll(port, "$PORT_A");
  return [
    { backend, name: names[0], url: receiver, keysFile: directFile, shown },
    { backend, name: names[1], url: receiver, keysFile: forwardedFile, shown },
  ];
}

/** A standalone memory node loaded with the same keys as the memory cluster's direct list. */
async function standaloneLoad(stack: AsyncDisposableStack, keysFile: string, commands: string[]): Promise<Load> {
  const dir = stack.use(await tempDir("limedb-bench-standalone-"));
  const port = freePort();
  const url = nodeUrlOf(port);
  stack.use(await startServer(nodeCommand({ port, peers: [], dataDir: dir.path, backend: "memory" }), url));
  const keys = (await Bun.file(keysFile).text()).split("\n").filter((k) => k !== "");
  await preload([url], keys.slice(0, GET_KEYS), LOAD_VALUE);
  commands.push(nodeCommand({ port: "$PORT", peers: [], dataDir: "$TMP", backend: "memory" }).join(" "));
  const shown = (text: string) => text.replaceAll(`${REPO_ROOT}/`, "").replaceAll(String(port), "$PORT");
  return { backend: "memory", name: "standalone node, same keys", url, keysFile, shown };
}

function load(target: Load, shape: LoadShape, seconds: number): Promise<LoadResult> {
  const keys = shape === "get" ? GET_KEYS : SET_KEYS;
  return runWrk({ url: target.url, script: KEYS_SCRIPT, scriptArgs: [shape, target.keysFile, String(keys)], seconds, threads: WRK_THREADS, connections: WRK_CONNECTIONS });
}

export interface ForwardResult {
  readonly figures: Figure[];
  readonly notes: string[];
  readonly commands: string[];
}

/** Within this much of 1× a ratio between two loads of the same work is this shared machine's run-to-run noise. */
const NOISE_SHARE = 0.2;

function standaloneNote(get: number, set: number): string {
  const what = `A standalone memory node serves ${get.toFixed(2)}× the GETs and ${set.toFixed(2)}× the SETs of a cluster node answering for keys it owns (a second, idle node and gossip beside it)`;
  const noise = Math.abs(get - 1) <= NOISE_SHARE && Math.abs(set - 1) <= NOISE_SHARE;
  return noise
    ? `${what}: within this machine's run-to-run noise, so membership costs nothing measurable on the direct path.`
    : `${what}. Both do the same work per request (the cluster node only adds a ring lookup), so a gap this wide is more likely load from other processes during one load's runs than a cost of membership; compare across runs before reading it as one.`;
}

function forwardNotes(figures: readonly Figure[], results: ReadonlyMap<string, LoadResult>): string[] {
  const find = (shape: LoadShape, backend: ForwardBackend, prefix: string) =>
    figures.find((f) => f.group === `${SHAPE_LABELS[shape]} · ${BACKEND_LABELS[backend]}` && f.name.startsWith(prefix));
  const ratio = (shape: LoadShape, backend: ForwardBackend) => (find(shape, backend, "forwarded")?.ratio ?? Number.NaN).toFixed(2);
  const addedP50 = (shape: LoadShape) => {
    const direct = results.get(`${shape} memory direct`);
    const forwarded = results.get(`${shape} memory forwarded`);
    return direct === undefined || forwarded === undefined ? Number.NaN : forwarded.p50Ms - direct.p50Ms;
  };
  const notes = [
    `One forwarding hop keeps ${ratio("get", "memory")}× of the direct GET rate and ${ratio("set", "memory")}× of the direct SET rate on memory nodes (sqlite: ${ratio("get", "sqlite")}× and ${ratio("set", "sqlite")}×), and adds ${addedP50("get").toFixed(2)} ms to the median GET and ${addedP50("set").toFixed(2)} ms to the median SET at ${WRK_CONNECTIONS} connections. A forwarded request costs the receiving node a server request plus an item in the turn's frame to the owner on the bus (one persistent WebSocket, the reads or writes of one event-loop turn merged into one getEach or putEach call) and the owner that item, and wrk and both nodes share the same 2 cores, so the ratio is the CPU cost of the hop, not network latency; on separate machines the receiving node's CPU alone would bound it. Nodes run with NODE_PROCESS_ENV (src/config/process-env.ts) as every launcher starts them.`,
    standaloneNote(find("get", "memory", "standalone")?.ratio ?? Number.NaN, find("set", "memory", "standalone")?.ratio ?? Number.NaN),
    `The raw pair (bench/raw-forward.ts: a bare Bun.serve front and owner on the same ring, the turn's requests in one JSON message over one Bun WebSocket, answered in order; no ids, deadlines, secret, versions, checks or metrics) keeps ${ratio("get", "raw")}× of its direct GET rate and ${ratio("set", "raw")}× of its SET rate: the floor of a hop in Bun on this machine, against which the nodes' ratios are read.`,
  ];
  const failed = [...results].filter(([, r]) => r.errors > 0).map(([name, r]) => `${name}: ${r.errors}`);
  if (failed.length > 0) notes.push(`wrk saw failed requests in the cluster loads (${failed.join("; ")}); those figures overstate the node.`);
  return notes;
}

export async function benchForwarding(): Promise<ForwardResult> {
  await using stack = new AsyncDisposableStack();
  const commands: string[] = [];
  const memory = await clusterLoads(stack, "memory", commands);
  const sqlite = await clusterLoads(stack, "sqlite", commands);
  const standalone = await standaloneLoad(stack, memory[0]!.keysFile, commands);
  const raw = await rawLoads(stack, commands);
  const loads = [...memory, standalone, ...raw, ...sqlite];
  const figures: Figure[] = [];
  const results = new Map<string, LoadResult>();
  for (const shape of ["get", "set"] as const) {
    const measured = await measureInRotation(loads, (target, seconds) => load(target, shape, seconds), (target) => target.shown, ROTATION);
    for (const backend of ["memory", "raw", "sqlite"] as const) {
      const rows = loads.flatMap((target, i) => (target.backend === backend ? [{ target, result: measured[i]! }] : []));
      for (const { target, result } of rows) results.set(`${shape} ${backend} ${target.name.split(":")[0]}`, result);
      const [direct, ...others] = rows.map(({ target, result }) => ({ name: target.name, value: result.requestsPerS, detail: wrkDetail(result) }));
      if (direct === undefined) throw new Error(`bench: the direct ${backend} load did not run`);
      figures.push(...againstBaseline("cluster", `${SHAPE_LABELS[shape]} · ${BACKEND_LABELS[backend]}`, "req/s", direct, others));
    }
    // The direct and forwarded commands differ only in the key file.
    commands.push(...measured.slice(0, 2).map((r) => r.command));
  }
  return { figures, notes: forwardNotes(figures, results), commands };
}
