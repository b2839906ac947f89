// The chaos run: clients write, overwrite, delete and read through random nodes of a real cluster while
// nodes are killed, restarted, added and retired; afterwards every acknowledged write must still be there.
import { Cluster, fetchNode, freePorts, urlOf, waitForAgreement, waitForDeath, waitUntil } from "../support/cluster.ts";
import { runLimedb } from "../support/limedb-cli.ts";
import type { NodeProcess } from "../support/node-process.ts";
import { fullyReplicated, inParallel, interruptOnExit, ownRecord, readReplicas, replicationArgs, requestLeave, TEST_CLUSTER_SECRET } from "../support/replication.ts";
import { seededRandom } from "../support/seeded-random.ts";
import { tempDir } from "../support/temp-dir.ts";

/**
 * Nodes started at first; the run then restarts one, adds a sixth, retires one gracefully and kills one for good,
 * which an operator removes with `limedb remove` once it is held dead (a dead node keeps its ranges until then).
 */
const NODES = 5;
const FACTOR = 3;
/** Anti-entropy (and the stray sweep) every half second, so a short run also exercises it. */
const ANTI_ENTROPY_INTERVAL_MS = 500;
/** Bound on a graceful leave: the node hands its data off, then exits. */
const LEAVE_EXIT_MS = 30_000;
const AGREE_WAIT_MS = 20_000;
/** Bound on the wait for every live node to hold a killed one dead (the dead timeout and a few rounds). */
const DEATH_WAIT_MS = 20_000;
/** Requests in flight while checking the end state. */
const CHECK_CONCURRENCY = 8;
/** Share of operations that read, and that delete; the rest write. */
const READ_SHARE = 0.25;
const DELETE_SHARE = 0.1;
/** Problems quoted in the report; the counts cover them all. */
const PROBLEMS_MAX = 20;
/** A client with no live node to ask waits this long before it looks again. */
const IDLE_MS = 20;

export interface ChaosOptions {
  /** How long the clients run; the faults are spread over it. */
  readonly durationMs: number;
  readonly seed: number;
  readonly clients?: number;
  readonly keysPerClient?: number;
  /** Rounds of faults, one after the other; each is a restart, a join, a leave and a death (then a replacement join, but for the last). */
  readonly cycles?: number;
  /** Bound on the wait, after the clients stop, for every key to have its three replicas again. */
  readonly settleTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly seed: number;
  /** Writes and deletes answered 200: each is a promise the cluster must keep. */
  readonly acknowledgedWrites: number;
  /** Writes answered 503/504 or cut off: they may or may not have been applied. */
  readonly maybeWrites: number;
  readonly reads: number;
  /** Reads during the run, answered 200 or 404, that showed neither the last acknowledged write nor a maybe-applied later one. */
  readonly staleReads: number;
  /** Keys that, after the settle wait, some live node reads back wrongly (an acknowledged write missing). */
  readonly lost: number;
  /** Keys without three replicas holding one version after the settle wait. */
  readonly underReplicated: number;
  /** Answers no client should ever get (400, 500, ...). */
  readonly unexpected: number;
  readonly settleMs: number;
  readonly events: readonly string[];
  readonly problems: readonly string[];
  /** The one line a run prints: `acknowledged writes: N, lost: L, stale reads: S`. */
  readonly summary: string;
}

/** What a client knows of one key: the last acknowledged state and the maybe-applied writes after it; null is absent. */
interface History {
  acked: string | null;
  readonly maybe: Set<string | null>;
  written: number;
}

interface Run {
  readonly live: Set<string>;
  readonly histories: Map<string, History>;
  readonly problems: string[];
  readonly events: string[];
  readonly started: number;
  stopping: boolean;
  acknowledged: number;
  maybe: number;
  reads: number;
  stale: number;
  unexpected: number;
  readonly log: (line: string) => void;
}

type Outcome = { kind: "answer"; status: number; text: string } | { kind: "cut"; error: string };

async function call(url: string, init?: RequestInit): Promise<Outcome> {
  try {
    const response = await fetchNode(url, init);
    return { kind: "answer", status: response.status, text: await response.text() };
  } catch (error) {
    return { kind: "cut", error: String(error) };
  }
}

function allowed(history: History): (string | null)[] {
  return [history.acked, ...history.maybe];
}

function problem(run: Run, text: string): void {
  if (run.problems.length < PROBLEMS_MAX) run.problems.push(`${Math.round(performance.now() - run.started)} ms: ${text}`);
}

/** 503 and 504 mean "maybe applied", and so does a request cut off by a node that died. */
function isMaybe(outcome: Outcome): boolean {
  return outcome.kind === "cut" || outcome.status === 503 || outcome.status === 504;
}

async function write(run: Run, node: string, key: string, history: History, value: string | null): Promise<void> {
  const outcome =
    value === null
      ? await call(`${node}/api/v1/del/${encodeURIComponent(key)}`, { method: "DELETE" })
      : await call(`${node}/api/v1/set`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key, value }) });
  if (outcome.kind === "answer" && outcome.status === 200) {
    history.acked = value;
    history.maybe.clear();
    run.acknowledged++;
  } else if (isMaybe(outcome)) {
    history.maybe.add(value);
    run.maybe++;
  } else {
    run.unexpected++;
    problem(run, `${value === null ? "delete" : "write"} of ${key} through ${node}: ${outcome.kind === "answer" ? `${outcome.status} ${outcome.text.slice(0, 200)}` : outcome.error}`);
  }
}

/** The value a read shows (null for 404), or undefined when the read told nothing (503, 504, cut off). */
function readValue(run: Run, where: string, outcome: Outcome): string | null | undefined {
  if (outcome.kind === "answer" && outcome.status === 200) return (JSON.parse(outcome.text) as { value: string }).value;
  if (outcome.kind === "answer" && outcome.status === 404) return null;
  if (isMaybe(outcome)) return undefined;
  run.unexpected++;
  problem(run, `read ${where}: ${outcome.kind === "answer" ? `${outcome.status} ${outcome.text.slice(0, 200)}` : outcome.error}`);
  return undefined;
}

async function read(run: Run, node: string, key: string, history: History): Promise<void> {
  const seen = readValue(run, `of ${key} through ${node}`, await call(`${node}/api/v1/get/${encodeURIComponent(key)}`));
  if (seen === undefined) return;
  run.reads++;
  if (allowed(history).includes(seen)) return;
  run.stale++;
  problem(run, `stale read of ${key} through ${node}: ${JSON.stringify(seen)}, expected one of ${JSON.stringify(allowed(history))}; ${await holdings(node, key)}`);
}

/** What each replica of a key holds, as the node that coordinated a read sees its replicas: for diagnosis. */
async function holdings(node: string, key: string): Promise<string> {
  try {
    const replicas = await readReplicas(node, key);
    const held = await Promise.all(replicas.map(async (r) => `${r.nodeUrl} ${JSON.stringify((await ownRecord(r.nodeUrl, key).catch(() => undefined))?.value ?? null)}`));
    return `replicas now: ${held.join(", ")}`;
  } catch (error) {
    return `replicas unreadable: ${String(error)}`;
  }
}

/** One client: its own keys, one operation at a time, through a random live node each time. */
async function client(run: Run, id: number, keys: readonly string[], random: () => number): Promise<void> {
  while (!run.stopping) {
    const live = [...run.live];
    const node = live[Math.floor(random() * live.length)];
    if (node === undefined) {
      await Bun.sleep(IDLE_MS);
      continue;
    }
    const key = keys[Math.floor(random() * keys.length)]!;
    const history = run.histories.get(key)!;
    const dice = random();
    if (dice < READ_SHARE) await read(run, node, key, history);
    else if (dice < READ_SHARE + DELETE_SHARE) await write(run, node, key, history, null);
    else await write(run, node, key, history, `${key} #${++history.written} by client ${id}`);
  }
}

function pick<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("nothing to pick from");
  return item;
}

/**
 * The faults of one cycle, spread over its window of the run: each waits for its moment, and for the
 * one before it to finish. A cycle that is not the last ends by starting a replacement, so the
 * cluster is back at five nodes for the next; the last leaves four.
 */
async function faultCycle(run: Run, cluster: Cluster, window: { startMs: number; lengthMs: number; last: boolean }, random: () => number): Promise<void> {
  const at = async (share: number) => {
    const wait = run.started + window.startMs + share * window.lengthMs - performance.now();
    if (wait > 0) await Bun.sleep(wait);
  };
  const event = (text: string) => {
    const line = `${Math.round(performance.now() - run.started)} ms: ${text}`;
    run.events.push(line);
    run.log(line);
  };
  const liveNodes = () => cluster.nodes.filter((node) => run.live.has(node.url));
  // Clients stop choosing a node before it goes, so what they see of it is what a crash mid-request shows.
  const retire = (node: NodeProcess) => run.live.delete(node.url);
  const join = async (what: string) => {
    const node = await cluster.add(liveNodes().map((live) => live.url).join(","));
    run.live.add(node.url);
    event(`started ${what} ${node.url}`);
    return node;
  };

  await at(0.15);
  const restarted = pick(liveNodes(), random);
  retire(restarted);
  await restarted.kill9();
  event(`killed ${restarted.url} (-9)`);

  await at(0.3);
  await restarted.restart();
  run.live.add(restarted.url);
  event(`restarted ${restarted.url}`);

  await at(0.45);
  const newcomer = await join("a sixth node");

  // The leaver and the node killed for good are neither the newcomer (its join must hold) nor the restarted one.
  const veterans = () => liveNodes().filter((node) => node !== newcomer && node !== restarted);
  await at(0.6);
  const leaver = pick(veterans(), random);
  retire(leaver);
  const response = await requestLeave(leaver.url).then(
    async (answer) => `${answer.status} ${await answer.text()}`,
    (error: unknown) => String(error),
  );
  const exit = await Promise.race([leaver.process.exited, Bun.sleep(LEAVE_EXIT_MS).then(() => "still running")]);
  event(`${leaver.url} left gracefully (leave answered ${response}; exit ${exit})`);
  if (exit !== 0) problem(run, `the leaving node ${leaver.url} did not exit 0 within ${LEAVE_EXIT_MS} ms: ${exit}`);

  await at(0.75);
  const doomed = pick(veterans(), random);
  retire(doomed);
  await doomed.kill9();
  event(`killed ${doomed.url} (-9) for good`);
  // Dead, it keeps its ranges (writes to them go on with two of three replicas, and hints wait for it) until
  // an operator removes it: then its ranges get new replicas. The removal goes through a live node's admin route.
  const witnesses = liveNodes().map((node) => node.url);
  await waitForDeath(witnesses, doomed.url, DEATH_WAIT_MS);
  const removal = await runLimedb(["remove", doomed.url, "--node", witnesses[0]!], { env: { CLUSTER_SECRET: TEST_CLUSTER_SECRET } });
  event(`limedb remove ${doomed.url}: exit ${removal.exitCode} ${removal.stdout.trim()}${removal.stderr.trim()}`);
  if (removal.exitCode !== 0) problem(run, `limedb remove ${doomed.url} failed: exit ${removal.exitCode}, ${removal.stderr.trim()}`);

  if (window.last) return;
  await at(0.9);
  await join("a replacement");
}

/** A key found wrong at the end, and what was found. */
interface Finding {
  readonly key: string;
  readonly text: string;
}

function keyCount(findings: readonly Finding[]): number {
  return new Set(findings.map((finding) => finding.key)).size;
}

/** Keys whose replicas (as each live node lists them) are not three holders of one version. */
async function underReplicatedKeys(live: readonly string[], keys: readonly string[], histories: ReadonlyMap<string, History>): Promise<Finding[]> {
  const checks = keys.flatMap((key) => live.map((node) => ({ key, node })));
  const found = await inParallel(checks, CHECK_CONCURRENCY, async ({ key, node }) => {
    const replicas = await readReplicas(node, key);
    const history = histories.get(key)!;
    // A key no write ever reached may be absent everywhere; any record of it must be fully replicated.
    if (history.acked === null && replicas.every((r) => !r.holds && r.error === undefined) && replicas.length === FACTOR) return [];
    if (fullyReplicated(replicas, FACTOR) && replicas.every((r) => live.includes(r.nodeUrl))) return [];
    return [{ key, text: `${key} on ${node}: ${JSON.stringify(replicas.map((r) => [r.nodeUrl, r.holds, r.version, r.tombstone, r.error ?? ""]))}` }];
  });
  return found.flat();
}

/** Keys some live node reads back as neither the last acknowledged state nor a maybe-applied later one. */
async function lostKeys(live: readonly string[], keys: readonly string[], histories: ReadonlyMap<string, History>, run: Run): Promise<Finding[]> {
  const checks = keys.flatMap((key) => live.map((node) => ({ key, node })));
  const found = await inParallel(checks, CHECK_CONCURRENCY, async ({ key, node }) => {
    const outcome = await call(`${node}/api/v1/get/${encodeURIComponent(key)}`);
    const seen = readValue(run, `of ${key} through ${node} after the run`, outcome);
    const history = histories.get(key)!;
    if (seen !== undefined && allowed(history).includes(seen)) return [];
    return [{ key, text: `${key} through ${node}: ${seen === undefined ? JSON.stringify(outcome) : JSON.stringify(seen)}, expected one of ${JSON.stringify(allowed(history))}` }];
  });
  return found.flat();
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const clients = options.clients ?? 6;
  const keysPerClient = options.keysPerClient ?? 40;
  const settleTimeoutMs = options.settleTimeoutMs ?? 30_000;
  const cycles = options.cycles ?? 1;
  const random = seededRandom(options.seed);

  await using cluster = new Cluster(await tempDir("limedb-chaos-"), { size: NODES, backend: "sqlite", args: replicationArgs(ANTI_ENTROPY_INTERVAL_MS) });
  await using _stop = interruptOnExit(cluster);
  // Every node names all the others as seeds, as the compose files do, so a restarted one finds the
  // cluster at its first gossip round. (A node with no seeds is a cluster of its own until someone
  // gossips with it, and as such serves from its own store alone.)
  const ports = freePorts(NODES);
  await Promise.all(ports.map((port) => cluster.add(ports.filter((other) => other !== port).map(urlOf).join(","), port)));
  await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);

  const keysOf = (id: number) => Array.from({ length: keysPerClient }, (_, k) => `chaos-${id}-${k}`);
  const keys = Array.from({ length: clients }, (_, id) => keysOf(id)).flat();
  const run: Run = {
    live: new Set(cluster.urls),
    histories: new Map(keys.map((key) => [key, { acked: null, maybe: new Set(), written: 0 }])),
    problems: [],
    events: [],
    started: performance.now(),
    stopping: false,
    acknowledged: 0,
    maybe: 0,
    reads: 0,
    stale: 0,
    unexpected: 0,
    log,
  };
  log(`chaos: ${NODES} nodes, RF=${FACTOR} W=2 R=2, ${clients} clients over ${keys.length} keys for ${options.durationMs} ms, ${cycles} cycle(s) of faults`);

  const running = Array.from({ length: clients }, (_, id) => client(run, id, keysOf(id), seededRandom(options.seed + 1 + id)));
  try {
    const cycleMs = options.durationMs / cycles;
    for (let cycle = 0; cycle < cycles; cycle++) {
      await faultCycle(run, cluster, { startMs: cycle * cycleMs, lengthMs: cycleMs, last: cycle === cycles - 1 }, random);
    }
    const rest = run.started + options.durationMs - performance.now();
    if (rest > 0) await Bun.sleep(rest);
  } finally {
    run.stopping = true;
    await Promise.all(running);
  }
  log(`clients stopped: ${run.acknowledged} acknowledged writes, ${run.maybe} maybe applied, ${run.reads} reads`);

  // The end state: the live nodes agree on the ring, then every key gets its replicas back with no client action.
  const live = [...run.live].sort();
  const settleStarted = performance.now();
  let underReplicated: Finding[] = [];
  try {
    await waitForAgreement(live, live, settleTimeoutMs);
    await waitUntil(
      "every key has three replicas holding one version",
      async () => (underReplicated = await underReplicatedKeys(live, keys, run.histories)),
      (missing) => missing.length === 0,
      Math.max(0, settleTimeoutMs - (performance.now() - settleStarted)),
    );
  } catch (error) {
    problem(run, String(error).slice(0, 1000));
  }
  const settleMs = Math.round(performance.now() - settleStarted);
  const lost = await lostKeys(live, keys, run.histories, run);
  for (const finding of [...underReplicated.slice(0, 5), ...lost.slice(0, 5)]) problem(run, finding.text);

  const summary = `acknowledged writes: ${run.acknowledged}, lost: ${keyCount(lost)}, stale reads: ${run.stale}`;
  return {
    seed: options.seed,
    acknowledgedWrites: run.acknowledged,
    maybeWrites: run.maybe,
    reads: run.reads,
    staleReads: run.stale,
    lost: keyCount(lost),
    underReplicated: keyCount(underReplicated),
    unexpected: run.unexpected,
    settleMs,
    events: run.events,
    problems: run.problems,
    summary,
  };
}
