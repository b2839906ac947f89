// Time to re-replicate after a crash: 4 nodes at three copies hold 10k keys; one is killed with -9 and, once held dead,
// removed (a dead node keeps its ranges until then); until every key again has three live replicas.
import { LOAD_VALUE } from "./wrk.ts";
import { VIRTUAL_NODES_DEFAULT } from "../src/config/settings.ts";
import { buildRing, replicasOf } from "../src/ring/ring.ts";
import { tempDir } from "./cleanup.ts";
import { clusterState, pollUntilAll, removeMember, startCluster, THREE_COPIES, type ClusterState, type GossipTiming, type RebalanceState } from "./cluster-nodes.ts";
import { againstBaseline, type Figure } from "./figures.ts";
import { seededRandom } from "./load-loop.ts";
import { preload } from "./preload.ts";
import { formatValue } from "./report.ts";
import { REQUEST_TIMEOUT_MS } from "./server-process.ts";

const NODES = 4;
/** Keys loaded before the kill; the figures are given per 10k keys. */
const KEYS = 10_000;
const PER_KEYS = 10_000;
/** Loading runs at wrk's concurrency, through every node in turn. */
const LOAD_CONCURRENCY = 64;
/** A short gossip timing, so death detection (which does not depend on the data) is a small part of the total. */
const TIMING: GossipTiming = { intervalMs: 200, staleAfterMs: 800, deadAfterMs: 1600 };
/** Every survivor's cluster state is read this often: the resolution of every time below. */
const POLL_MS = 20;
/** Keys asked through GET /api/v1/replicas/:key, picked at random (seeded) from the 10k. */
const SAMPLE_KEYS = 500;
const SAMPLE_CONCURRENCY = 16;
/** SEED=… replays another sample. */
const SEED = Number(process.env.SEED ?? 20_261_124);
/** The cluster must be quiet (no pass running, no hint waiting, every sampled key on 3 replicas) within this after loading. */
const QUIET_BOUND_MS = 15_000;
/** Death must reach every survivor within the dead timeout plus this many intervals. */
const NEWS_INTERVALS_MAX = 30;
/** Re-replication of 10k keys must end within this after the kill, or the run reports it as not done. */
const REREPLICATE_BOUND_MS = 60_000;
/** Pause between two checks of the sample keys that still lack a copy. */
const RECHECK_MS = 100;

/** One entry of GET /api/v1/replicas/:key. */
interface ReplicaEntry {
  readonly nodeUrl: string;
  readonly holds: boolean;
  readonly error?: string;
}

/** Whether a key has all its copies on live replicas, asked through `via`; a node that does not answer counts as no. */
async function fullyReplicated(via: string, key: string, killed: string | undefined): Promise<boolean> {
  try {
    const response = await fetch(`${via}/api/v1/replicas/${key}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = (await response.json()) as { replicas?: unknown };
    if (!response.ok || !Array.isArray(body.replicas)) return false;
    const replicas = body.replicas as ReplicaEntry[];
    return replicas.length === THREE_COPIES.factor && replicas.every((r) => r.holds && r.error === undefined && r.nodeUrl !== killed);
  } catch {
    return false;
  }
}

/** The sample keys that lack a copy, asked through the nodes in turn. */
async function lacking(via: readonly string[], keys: readonly string[], killed: string | undefined): Promise<string[]> {
  const missing: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < keys.length; i = next++) {
      if (!(await fullyReplicated(via[i % via.length]!, keys[i]!, killed))) missing.push(keys[i]!);
    }
  };
  await Promise.all(Array.from({ length: SAMPLE_CONCURRENCY }, worker));
  return missing;
}

/** A node's count of the keys in its store, from the first page of GET /api/v1/keys. */
async function keyCount(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${url}/api/v1/keys?page=1&pageSize=1`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = (await response.json()) as { total?: unknown };
    return response.ok && typeof body.total === "number" ? body.total : undefined;
  } catch {
    return undefined;
  }
}

interface Confirmation {
  /** performance.now() when the check first passed; undefined when it never did within the bound. */
  readonly at: number | undefined;
  readonly checks: number;
  readonly missing: readonly string[];
}

/**
 * Checks the sample (every key on 3 live replicas) and, after a kill, each survivor's key count, until
 * both hold or `boundMs` passes. With 3 survivors and 3 copies every survivor holds every key, so a
 * count of 10k on each is a check of all keys, not only the sample.
 */
async function confirm(via: readonly string[], sample: readonly string[], killed: string | undefined, boundMs: number): Promise<Confirmation> {
  const deadline = performance.now() + boundMs;
  let pending = [...sample];
  for (let checks = 1; ; checks++) {
    pending = await lacking(via, pending, killed);
    const counts = killed === undefined ? [] : await Promise.all(via.map(keyCount));
    const short = counts.filter((count) => count !== KEYS).length;
    if (pending.length === 0 && short === 0) return { at: performance.now(), checks, missing: [] };
    if (performance.now() >= deadline) return { at: undefined, checks, missing: [...pending, ...(short > 0 ? [`${short} survivors without all ${KEYS} keys`] : [])] };
    await Bun.sleep(RECHECK_MS);
  }
}

/** SAMPLE_KEYS distinct keys picked by a seeded shuffle. */
function sampleOf(keys: readonly string[], seed: number): string[] {
  const random = seededRandom(seed);
  const pool = [...keys];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, SAMPLE_KEYS);
}

/** Everything timed in one run, in performance.now() milliseconds. */
interface Run {
  readonly loadMs: number;
  readonly killedAt: number;
  readonly dead: ReadonlyMap<string, number>;
  readonly idle: ReadonlyMap<string, number>;
  readonly idleState: ReadonlyMap<string, RebalanceState>;
  readonly streamedBefore: ReadonlyMap<string, number>;
  readonly passesBefore: ReadonlyMap<string, number>;
  readonly confirmed: Confirmation;
  /** Keys that had a copy on the killed node: each needs a new one. */
  readonly moved: number;
}

export interface RecoveryResult {
  readonly figures: Figure[];
  readonly notes: string[];
  readonly commands: string[];
}

const ms = (value: number) => `${formatValue(value, "ms")} ms`;
const perKeys = (valueMs: number) => (valueMs * PER_KEYS) / KEYS;

async function measure(stack: AsyncDisposableStack, commands: string[]): Promise<Run> {
  const dir = stack.use(await tempDir("limedb-bench-rereplicate-"));
  const cluster = await startCluster(stack, NODES, { dataDir: dir.path, backend: "memory", gossip: TIMING, replication: THREE_COPIES });
  commands.push(...cluster.shown);
  const keys = Array.from({ length: KEYS }, (_, n) => `replica-${n}`);
  const loadStarted = performance.now();
  await preload(cluster.urls, keys, LOAD_VALUE, LOAD_CONCURRENCY);
  const loadMs = performance.now() - loadStarted;

  // The third copy of a write is sent after W=2 answered; wait until it has landed everywhere before the kill.
  const sample = sampleOf(keys, SEED);
  const quiet = await pollUntilAll(cluster.urls, (s) => !s.replication.rebalance.running && s.replication.hintBacklog === 0, POLL_MS, QUIET_BOUND_MS);
  const before = await confirm(cluster.urls, sample, undefined, QUIET_BOUND_MS);
  if (quiet.size < NODES || before.at === undefined) throw new Error(`bench: the cluster was not quiet with every sampled key on 3 replicas within ${QUIET_BOUND_MS} ms of loading`);

  const killed = cluster.urls[NODES - 1]!;
  const survivors = cluster.urls.slice(0, NODES - 1);
  const states = await Promise.all(survivors.map(clusterState));
  if (states.some((s) => s === undefined)) throw new Error("bench: a survivor did not report its state before the kill");
  const passesBefore = new Map(states.map((s) => [s!.nodeUrl, s!.replication.rebalance.passes]));
  const streamedBefore = new Map(states.map((s) => [s!.nodeUrl, s!.replication.rebalance.streamed]));
  const ring = buildRing(cluster.urls, VIRTUAL_NODES_DEFAULT);
  const moved = keys.filter((key) => replicasOf(ring, key, THREE_COPIES.factor).includes(killed)).length;

  const isDead = (s: ClusterState) => s.members.some((m) => m.url === killed && m.state === "dead");
  const idleState = new Map<string, RebalanceState>();
  // Idle: the killed node is out of the ring here (removed), and a pass begun since has ended having reached every new replica.
  const isIdle = (s: ClusterState) => {
    const rebalance = s.replication.rebalance;
    const idle = !s.peers.includes(killed) && !rebalance.running && rebalance.passes > (passesBefore.get(s.nodeUrl) ?? 0) && (rebalance.lastPass?.failedTargets.length ?? 0) === 0;
    if (idle) idleState.set(s.nodeUrl, rebalance);
    return idle;
  };
  const killedAt = performance.now();
  process.kill(cluster.servers[NODES - 1]!.pid, "SIGKILL");
  const deathBoundMs = TIMING.deadAfterMs + NEWS_INTERVALS_MAX * TIMING.intervalMs;
  const dead = await pollUntilAll(survivors, isDead, POLL_MS, deathBoundMs);
  // Dead, it keeps its ranges; the operator's removal (here the moment every survivor holds it dead) hands them on.
  if (dead.size === survivors.length) await removeMember(survivors[0]!, killed);
  const idle = await pollUntilAll(survivors, isIdle, POLL_MS, Math.max(0, killedAt + REREPLICATE_BOUND_MS - performance.now()));
  const confirmed = await confirm(survivors, sample, killed, Math.max(0, killedAt + REREPLICATE_BOUND_MS - performance.now()));
  return { loadMs, killedAt, dead, idle, idleState, streamedBefore, passesBefore, confirmed, moved };
}

function latest(times: ReadonlyMap<string, number>, count: number): number | undefined {
  return times.size < count ? undefined : Math.max(...times.values());
}

/** When every key was back on 3 live replicas: all passes idle, or later if the check had to wait for stragglers. */
function replicatedAt(run: Run, survivors: number): number | undefined {
  const idleAll = latest(run.idle, survivors);
  if (idleAll === undefined || run.confirmed.at === undefined) return undefined;
  return run.confirmed.checks === 1 ? idleAll : run.confirmed.at;
}

/** What each survivor's rebalancing did after the kill: records streamed, pass times, own detection to own pass done. */
function passSummary(run: Run): { streamed: number; passes: string; ownDelay: string } {
  const streamedBy = (url: string, r: RebalanceState) => r.streamed - (run.streamedBefore.get(url) ?? 0);
  const streamed = [...run.idleState].reduce((sum, [url, r]) => sum + streamedBy(url, r), 0);
  // More than one pass on a survivor means its ring changed again: a member flapped (dead and back; stale is not enough).
  const passes = [...run.idleState]
    .map(([url, r]) => {
      const count = r.passes - (run.passesBefore.get(url) ?? 0);
      const more = count === 1 ? "" : `, ${count} passes, the last timed`;
      return `${r.lastPass?.durationMs ?? "?"} ms (${streamedBy(url, r).toLocaleString("en-US")} records${more})`;
    })
    .join(", ");
  const ownDelay = [...run.idle].map(([url, at]) => formatValue(at - (run.dead.get(url) ?? Number.NaN), "ms")).join(", ");
  return { streamed, passes, ownDelay };
}

function figuresOf(run: Run): { figures: Figure[]; notes: string[] } {
  const survivors = NODES - 1;
  const deadAll = latest(run.dead, survivors);
  const done = replicatedAt(run, survivors);
  const firstDead = run.dead.size === 0 ? undefined : Math.min(...run.dead.values()) - run.killedAt;
  const { streamed, passes, ownDelay } = passSummary(run);
  const check =
    run.confirmed.at === undefined
      ? `NOT DONE within ${ms(REREPLICATE_BOUND_MS)}: ${run.confirmed.missing.slice(0, 5).join(", ")}${run.confirmed.missing.length > 5 ? ", …" : ""}`
      : `confirmed by ${SAMPLE_KEYS} random keys on 3 live replicas and ${KEYS.toLocaleString("en-US")} keys on each survivor${run.confirmed.checks === 1 ? " at the first check" : ` after ${run.confirmed.checks} checks (time of the passing check)`}`;
  const since = (from: number, to: number | undefined) => (to === undefined ? Number.NaN : to - from);
  const lost = (value: number, detail: string) => (Number.isNaN(value) ? `LOST; ${detail}` : detail);
  const killToDead = since(run.killedAt, deadAll);
  const firstToDone = firstDead === undefined ? Number.NaN : since(run.killedAt + firstDead, done);
  const killToDone = since(run.killedAt, done);
  const afterDeath = deadAll === undefined ? Number.NaN : since(deadAll, done);
  const scope = `${NODES} nodes, RF=3, memory, gossip every ${ms(TIMING.intervalMs)}`;
  const figures = [
    ...againstBaseline(
      "replication",
      `kill -9 → every key on 3 live replicas · ${scope}, ${KEYS / 1000}k keys`,
      "ms",
      { name: "dead-after timeout (configured)", value: TIMING.deadAfterMs, detail: `stale after ${ms(TIMING.staleAfterMs)}; one run` },
      [
        { name: `kill -9 → dead at all ${survivors} survivors`, value: killToDead, detail: lost(killToDead, `the first declared it dead after ${firstDead === undefined ? "—" : ms(firstDead)}`) },
        { name: `kill -9 → every key on 3 live replicas`, value: killToDone, detail: lost(killToDone, `rebalance idle on every survivor; ${check}`) },
      ],
    ),
    ...againstBaseline(
      "replication",
      `re-replication after death detection, per ${PER_KEYS / 1000}k keys · ${scope}`,
      "ms",
      { name: `loading the keys through the API (W=2, ${LOAD_CONCURRENCY} concurrent)`, value: perKeys(run.loadMs), detail: `${Math.round((KEYS * 1000) / run.loadMs).toLocaleString("en-US")} keys/s through all ${NODES} nodes` },
      [
        {
          name: `dead at all → every key on 3 live replicas`,
          value: perKeys(afterDeath),
          detail: lost(
            afterDeath,
            `${run.moved.toLocaleString("en-US")} keys had a copy on the killed node; survivors streamed ${streamed.toLocaleString("en-US")} records; their passes took ${passes}; own detection → own pass done ${ownDelay} ms; first detection → every key on 3 replicas ${ms(perKeys(firstToDone))}`,
          ),
        },
      ],
    ),
  ];
  const notes = Number.isNaN(killToDone)
    ? [`Re-replication after a kill -9 did not finish within ${ms(REREPLICATE_BOUND_MS)}: ${check}.`]
    : [
        `After a kill -9 of one of ${NODES} nodes holding ${KEYS.toLocaleString("en-US")} keys at three copies, every key had three live replicas again ${ms(killToDone)} after the kill: ${ms(killToDead)} until the last survivor declared the node dead (${(killToDead / TIMING.deadAfterMs).toFixed(2)}× the dead timeout), then ${ms(afterDeath)} of rebalancing, ${Math.round((run.moved * 1000) / Math.max(1, afterDeath)).toLocaleString("en-US")} keys/s, ${(afterDeath / run.loadMs).toFixed(2)}× the time it took to write them through the API.`,
        `Why: nothing moves until a survivor declares the node dead (stale members stay in the ring, so a slow node is not re-replicated away); then each survivor's ring change starts a rebalance pass that scans its whole store in 256-record batches and streams each record to the replicas that are new for it. Every survivor that holds a moved key sends it, so about twice the moved keys are streamed (${streamed.toLocaleString("en-US")} records for ${run.moved.toLocaleString("en-US")} keys). Death detection is fixed by the gossip timing; the rebalance part grows with the data a survivor holds.`,
      ];
  return { figures, notes };
}

export async function benchRecovery(): Promise<RecoveryResult> {
  await using stack = new AsyncDisposableStack();
  const commands: string[] = [];
  const run = await measure(stack, commands);
  const { figures, notes } = figuresOf(run);
  commands.push(`# ${KEYS} keys through all ${NODES} nodes, kill -9 $PID_D, then poll GET /api/v1/cluster/state, /api/v1/replicas/:key and /api/v1/keys on $PORT_A, $PORT_B, $PORT_C (SEED=${SEED})`);
  return { figures, notes, commands };
}
