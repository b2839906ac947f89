// Writes/s and reads/s of one node alone, of a 3-node cluster at one copy and of one at three copies (W=2, R=2), wrk on one node.
import { join } from "node:path";
import { VIRTUAL_NODES_DEFAULT } from "../src/config/settings.ts";
import { RING_CHANGE_READ_ALL_MS } from "../src/node/node.ts";
import { buildRing, ownerOf } from "../src/ring/ring.ts";
import { tempDir } from "./cleanup.ts";
import { clusterState, ONE_COPY, startCluster, THREE_COPIES, type ReplicationSettings } from "./cluster-nodes.ts";
import { againstBaseline, type Figure } from "./figures.ts";
import { preload } from "./preload.ts";
import { REPO_ROOT } from "./server-process.ts";
import { measureInRotation, runWrk, wrkDetail, type LoadResult, type Rotation, KEYS_SCRIPT, LOAD_VALUE, WARMUP_S, WRK_CONNECTIONS, WRK_THREADS, type LoadBackend, type LoadShape } from "./wrk.ts";

const NODES = 3;
/** Slack past RING_CHANGE_READ_ALL_MS before the loads start, in ms. */
const STEADY_MARGIN_MS = 1_000;
/** Keys preloaded before the GET runs; the GET load cycles over exactly these. */
const GET_KEYS = 1_000;
/** Keys the SET load writes over. */
const SET_KEYS = 5_000;
/** Seconds per wrk run (wrk takes whole seconds); BENCH_REPLICATION_S lengthens it. */
const RUN_S = Number(process.env.BENCH_REPLICATION_S ?? 2);
/** One warm-up per cluster and shape (WARMUP_S: forwarding and replication handlers compile too), then two runs each, alternating. */
const ROTATION: Rotation = { warmupS: WARMUP_S, rounds: 2, runS: RUN_S };

const SHAPE_LABELS: Record<LoadShape, string> = {
  get: `GET, ${GET_KEYS / 1000}k preloaded keys`,
  set: `SET, ${SET_KEYS / 1000}k-key space`,
};

interface Setup {
  readonly name: string;
  readonly nodes: number;
  readonly replication: ReplicationSettings;
}

/** The group of a shape's figures on one backend; the chart finds them by it. */
export function loadGroup(shape: LoadShape, backend: LoadBackend): string {
  return `${SHAPE_LABELS[shape]} · ${backend}, ${NODES} nodes, wrk on node A`;
}

/** The baseline first: one node alone (what three copies are held against); then three nodes at one copy, where most requests are forwarded to their owner, and at three. */
export const SETUPS: readonly [Setup, Setup, Setup] = [
  { name: "one node", nodes: 1, replication: ONE_COPY },
  { name: "RF=1: one copy", nodes: NODES, replication: ONE_COPY },
  { name: "RF=3, W=2, R=2", nodes: NODES, replication: THREE_COPIES },
];

/** One wrk target: node A of a cluster. */
interface Load {
  readonly setup: Setup;
  readonly url: string;
  readonly shown: (text: string) => string;
}

/** The quorums a node reports for 3 copies on 3 nodes must be the ones asked for, or the figures measure something else. */
async function expectQuorums(url: string, wanted: ReplicationSettings): Promise<void> {
  const state = await clusterState(url);
  const got = state?.replication;
  if (got === undefined || got.factor !== wanted.factor || got.writeQuorum !== wanted.writeQuorum || got.readQuorum !== wanted.readQuorum) {
    throw new Error(`bench: ${url} reports replication ${JSON.stringify(got)}, expected ${JSON.stringify(wanted)}`);
  }
}

/**
 * Waits out the window after a ring change in which reads ask every replica and wait for all of them
 * (RING_CHANGE_READ_ALL_MS, node.ts): measured inside it, a GET at three copies would price that
 * transient, not the reads a settled cluster serves (its own copy and R − 1 others).
 */
async function steadyState(ringFormedAtMs: number): Promise<void> {
  const waitMs = ringFormedAtMs + RING_CHANGE_READ_ALL_MS + STEADY_MARGIN_MS - performance.now();
  if (waitMs > 0) await Bun.sleep(waitMs);
}

/** The cluster of one setup, its GET keys preloaded through node A, the load aimed at node A. */
async function clusterLoad(stack: AsyncDisposableStack, backend: LoadBackend, setup: Setup, dir: string, commands: string[]): Promise<Load & { urls: readonly string[]; formedAtMs: number }> {
  const cluster = await startCluster(stack, setup.nodes, { dataDir: dir, backend, replication: setup.replication });
  // Every member is in every ring once the cluster is up (startCluster waits for it): the last ring change was before now.
  const formedAtMs = performance.now();
  const receiver = cluster.urls[0]!;
  await expectQuorums(receiver, setup.replication);
  await preload([receiver], keyNames(GET_KEYS), LOAD_VALUE);
  commands.push(...cluster.shown);
  const port = new URL(receiver).port;
  const shown = (text: string) => text.replaceAll(dir, "$TMP").replaceAll(`${REPO_ROOT}/`, "").replaceAll(port, "$PORT_A");
  return { setup, url: receiver, shown, urls: cluster.urls, formedAtMs };
}

function keyNames(count: number): string[] {
  return Array.from({ length: count }, (_, n) => `bench-${n}`);
}

function load(target: Load, shape: LoadShape, keysFile: string, seconds: number): Promise<LoadResult> {
  const keys = shape === "get" ? GET_KEYS : SET_KEYS;
  return runWrk({ url: target.url, script: KEYS_SCRIPT, scriptArgs: [shape, keysFile, String(keys)], seconds, threads: WRK_THREADS, connections: WRK_CONNECTIONS });
}

export interface ReplicationLoadResult {
  readonly figures: Figure[];
  readonly notes: string[];
  readonly commands: string[];
}

/** What fraction of the key list node A owns at one copy: the rest it forwards. */
function ownedShare(urls: readonly string[], keys: number): number {
  const ring = buildRing(urls, VIRTUAL_NODES_DEFAULT);
  return keyNames(keys).filter((key) => ownerOf(ring, key) === urls[0]).length / keys;
}

function backendNote(backend: LoadBackend, results: ReadonlyMap<LoadShape, readonly [LoadResult, LoadResult, LoadResult]>, share: number): string {
  const parts = [...results].map(([shape, [alone, one, three]]) => {
    const verb = shape === "get" ? "reads" : "writes";
    return `${(three.requestsPerS / alone.requestsPerS).toFixed(2)}× the ${verb}/s of one node alone and ${(three.requestsPerS / one.requestsPerS).toFixed(2)}× those of one copy on three (p50 ${alone.p50Ms.toFixed(2)} alone → ${three.p50Ms.toFixed(2)} ms, p99 ${alone.p99Ms.toFixed(2)} → ${three.p99Ms.toFixed(2)} ms)`;
  });
  return `${backend}: three copies at W=2, R=2 on three nodes serve ${parts.join(", and ")}, at ${WRK_CONNECTIONS} connections on node A, which owns ${(share * 100).toFixed(0)}% of the keys at one copy and forwards the rest.`;
}

export async function benchReplicationLoad(): Promise<ReplicationLoadResult> {
  const figures: Figure[] = [];
  const notes: string[] = [];
  const commands: string[] = [];
  const failed: string[] = [];
  for (const backend of ["memory", "sqlite"] as const) {
    // One backend's two clusters at a time: six nodes and wrk on two cores are already crowded.
    await using stack = new AsyncDisposableStack();
    const dir = stack.use(await tempDir(`limedb-bench-replication-${backend}-`));
    const keysFile = join(dir.path, "keys.txt");
    await Bun.write(keysFile, `${keyNames(SET_KEYS).join("\n")}\n`);
    const loads = [];
    // Both clusters share the dir: a node's files are named after its URL.
    for (const setup of SETUPS) loads.push(await clusterLoad(stack, backend, setup, dir.path, commands));
    await steadyState(loads.at(-1)!.formedAtMs);
    const share = ownedShare(loads[1]!.urls, SET_KEYS);
    const results = new Map<LoadShape, readonly [LoadResult, LoadResult, LoadResult]>();
    for (const shape of ["get", "set"] as const) {
      const [alone, one, three] = (await measureInRotation(loads, (target, seconds) => load(target, shape, keysFile, seconds), (target) => target.shown, ROTATION)) as [LoadResult, LoadResult, LoadResult];
      results.set(shape, [alone, one, three]);
      for (const [name, r] of [[`${shape} ${backend} one node`, alone], [`${shape} ${backend} RF=1`, one], [`${shape} ${backend} RF=3`, three]] as const) if (r.errors > 0) failed.push(`${name}: ${r.errors}`);
      figures.push(
        ...againstBaseline("replication", loadGroup(shape, backend), "req/s", { name: SETUPS[0].name, value: alone.requestsPerS, detail: wrkDetail(alone) }, [
          { name: SETUPS[1].name, value: one.requestsPerS, detail: `${wrkDetail(one)}; A owns ${(share * 100).toFixed(0)}% of the keys, forwards the rest` },
          { name: SETUPS[2].name, value: three.requestsPerS, detail: `${wrkDetail(three)}; p50 ${(three.p50Ms / alone.p50Ms).toFixed(2)}×, p99 ${(three.p99Ms / alone.p99Ms).toFixed(2)}× of one node` },
        ]),
      );
      if (backend === "memory") commands.push(alone.command);
    }
    notes.push(backendNote(backend, results, share));
  }
  notes.push(
    `The Done-when of the bus issue reads the sqlite rows: three copies against one node alone. Why the cost: at one copy node A answers the keys it owns from its own store and sends every other request one hop to the owner (the cluster part's 2-node forwarding figures price that hop). At three copies on three nodes every node holds every key, so A never forwards, but every request fans out: a SET writes A's store and sends the record to both other nodes, answering once one of them (W=2 with A) acknowledged; a GET reads A's store and asks one other (R − 1, the same peer for every read of one event-loop turn, the other the next turn) for its version only, fetching the record only from a replica with a newer one. The loads start more than RING_CHANGE_READ_ALL_MS (30 s) after the clusters formed: in that window after a ring change a read asks every replica and waits for all of them, a transient the figures would otherwise price. Replica calls travel on the bus (one persistent connection per peer, the calls of one event-loop turn in one frame), on the same two cores as wrk and all three nodes, so the ratio is mostly the CPU price of the fan-out; on separate machines the remote work would run in parallel on other CPUs.`,
  );
  if (failed.length > 0) notes.push(`wrk saw failed requests in the replication loads (${failed.join("; ")}); those figures overstate the cluster.`);
  return { figures, notes, commands };
}
