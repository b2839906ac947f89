// How fast gossip spreads news through a 4-node cluster: a new node listed by every member, a kill -9'd one declared dead by every member.
import { tempDir } from "./cleanup.ts";
import { nodeCommand, nodeUrlOf, pollUntilAll, startCluster, type GossipTiming } from "./cluster-nodes.ts";
import { againstBaseline, type Figure } from "./figures.ts";
import { formatValue } from "./report.ts";
import { freePort, spawnServer, waitReady } from "./server-process.ts";

/** Members before the new node joins. */
const MEMBERS = 4;
/** Every member's cluster state (and the new node's health) is read this often: the resolution of every time below. */
const POLL_MS = 20;
/** Start of a node, spawn to first health 200, at most this. */
const START_BOUND_MS = 15_000;
/** News that has not reached every member after this many intervals (beyond start or the dead timeout) counts as lost. */
const NEWS_INTERVALS_MAX = 30;

interface Setup {
  readonly timing: GossipTiming;
  readonly trials: number;
}

/**
 * The node's defaults, and a 5× shorter interval with the timeouts scaled alike (stale after 3
 * intervals, dead after 5). Short intervals take less time per trial, so they get more trials.
 */
const SETUPS: readonly Setup[] = [
  { timing: { intervalMs: 1000, staleAfterMs: 3000, deadAfterMs: 5000 }, trials: 3 },
  { timing: { intervalMs: 200, staleAfterMs: 600, deadAfterMs: 1000 }, trials: 5 },
];

/** One join and one death; a time is undefined when the news did not reach every member within the bound. */
interface Trial {
  readonly spawnToHealthMs: number;
  readonly healthToFirstMs: number | undefined;
  readonly healthToAllMs: number | undefined;
  readonly spawnToAllMs: number | undefined;
  readonly killToFirstDeadMs: number | undefined;
  readonly killToAllDeadMs: number | undefined;
}

function earliest(times: ReadonlyMap<string, number>): number | undefined {
  return times.size === 0 ? undefined : Math.min(...times.values());
}

function latest(times: ReadonlyMap<string, number>, count: number): number | undefined {
  return times.size < count ? undefined : Math.max(...times.values());
}

/** Starts a new node seeded with one member, times its join, kills it with -9 and times its death. */
async function runTrial(members: readonly string[], setup: Setup, dataDir: string, trial: number): Promise<Trial> {
  const { timing } = setup;
  const port = freePort();
  const url = nodeUrlOf(port);
  // Seeds rotate over the members, so no single member's position in the gossip pattern decides the figure.
  const seed = members[trial % members.length]!;
  await using joiner = spawnServer(nodeCommand({ port, peers: [seed], dataDir, backend: "memory", gossip: timing }), url);
  const joinBoundMs = START_BOUND_MS + NEWS_INTERVALS_MAX * timing.intervalMs;
  const [healthAt, listed] = await Promise.all([
    waitReady(joiner, POLL_MS),
    pollUntilAll(members, (state) => state.peers.includes(url), POLL_MS, joinBoundMs),
  ]);
  const listedByAll = latest(listed, members.length);
  const since = (from: number, to: number | undefined) => (to === undefined ? undefined : to - from);
  const joined = {
    spawnToHealthMs: healthAt - joiner.spawnedAtMs,
    healthToFirstMs: since(healthAt, earliest(listed)),
    healthToAllMs: since(healthAt, listedByAll),
    spawnToAllMs: since(joiner.spawnedAtMs, listedByAll),
  };
  if (listedByAll === undefined) return { ...joined, killToFirstDeadMs: undefined, killToAllDeadMs: undefined };
  const killedAt = performance.now();
  await joiner.kill9();
  const deathBoundMs = timing.deadAfterMs + NEWS_INTERVALS_MAX * timing.intervalMs;
  const dead = await pollUntilAll(members, (state) => state.members.some((m) => m.url === url && m.state === "dead"), POLL_MS, deathBoundMs);
  return { ...joined, killToFirstDeadMs: since(killedAt, earliest(dead)), killToAllDeadMs: since(killedAt, latest(dead, members.length)) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The defined values of one measure over the trials, and how many trials lost the news. */
function measure(trials: readonly Trial[], pick: (t: Trial) => number | undefined): { values: number[]; lost: number } {
  const values = trials.flatMap((t) => {
    const v = pick(t);
    return v === undefined ? [] : [v];
  });
  return { values, lost: trials.length - values.length };
}

const ms = (value: number) => `${formatValue(value, "ms")} ms`;
/** The node gossips as soon as it listens, so its seed may list it before the bench's health poll sees it answer. */
const relative = (deltaMs: number) => (deltaMs < 0 ? `${ms(-deltaMs)} before` : `${ms(deltaMs)} after`);
const intervals = (value: number, intervalMs: number) => `${(value / intervalMs).toFixed(1)} intervals`;

/** A median row with max, every run and losses in the detail; NaN when every trial lost the news. */
function row(name: string, trials: readonly Trial[], pick: (t: Trial) => number | undefined, intervalMs: number, extra: string) {
  const { values, lost } = measure(trials, pick);
  if (values.length === 0) return { name, value: Number.NaN, detail: `LOST in all ${trials.length} trials` };
  const max = Math.max(...values);
  const runs = values.map((v) => formatValue(v, "ms")).join(", ");
  const losses = lost === 0 ? "" : `; LOST in ${lost} of ${trials.length} trials`;
  return { name, value: median(values), detail: `${intervals(median(values), intervalMs)}; max ${ms(max)} (${intervals(max, intervalMs)}); runs ${runs} ms${extra}${losses}` };
}

function setupFigures(setup: Setup, trials: readonly Trial[]): Figure[] {
  const { intervalMs, staleAfterMs, deadAfterMs } = setup.timing;
  const every = `gossip every ${formatValue(intervalMs, "ms")} ms`;
  const firstListed = median(measure(trials, (t) => t.healthToFirstMs).values);
  const startMs = median(trials.map((t) => t.spawnToHealthMs));
  const firstDead = median(measure(trials, (t) => t.killToFirstDeadMs).values);
  const join = againstBaseline(
    "cluster",
    `new node listed by all ${MEMBERS} members · ${every}`,
    "ms",
    { name: "gossip interval (configured)", value: intervalMs, detail: `stale after ${ms(staleAfterMs)}, dead after ${ms(deadAfterMs)}; ${trials.length} trials` },
    [
      row(`first health 200 → listed by all, median of ${trials.length}`, trials, (t) => t.healthToAllMs, intervalMs, `; the first member (normally the seed) listed it ${relative(firstListed)} the first health 200`),
      row(`spawn → listed by all, median of ${trials.length}`, trials, (t) => t.spawnToAllMs, intervalMs, `; spawn → first health 200 took ${ms(startMs)} (process start)`),
    ],
  );
  const death = againstBaseline(
    "cluster",
    `kill -9 → dead at all ${MEMBERS} members · ${every}`,
    "ms",
    { name: "dead-after timeout (configured)", value: deadAfterMs, detail: intervals(deadAfterMs, intervalMs) },
    [row(`kill -9 → dead at all, median of ${trials.length}`, trials, (t) => t.killToAllDeadMs, intervalMs, `; the first member declared it dead after ${ms(firstDead)}`)],
  );
  return [...join, ...death];
}

function gossipNotes(results: readonly { setup: Setup; trials: readonly Trial[] }[]): string[] {
  const notes = results.map(({ setup, trials }) => {
    const { intervalMs, deadAfterMs } = setup.timing;
    const join = measure(trials, (t) => t.healthToAllMs).values;
    const death = measure(trials, (t) => t.killToAllDeadMs).values;
    if (join.length === 0 || death.length === 0) return `At a ${ms(intervalMs)} interval some news never reached every member within the bound; see the LOST counts above.`;
    return `At a ${ms(intervalMs)} interval a new node is listed by all ${MEMBERS} members ${intervals(median(join), intervalMs)} (median; max ${intervals(Math.max(...join), intervalMs)}) after it first answers, and a kill -9'd one is dead at all of them ${(median(death) / deadAfterMs).toFixed(2)}× the ${ms(deadAfterMs)} dead timeout after the kill (max ${(Math.max(...death) / deadAfterMs).toFixed(2)}×).`;
  });
  notes.push(
    "Why: a new node's first round, at start, sends a SYN to its seed, which lists it at once; every member then gossips with one random live member per interval, so the news reaches the rest by epidemic within a round or two. Death is local: a member declares a node dead once it has heard no newer heartbeat of it for the dead timeout, and checks once per round. Most members hear the last heartbeat second-hand, a round or two after the kill, so the last member lands up to a few intervals past the timeout; the first one can be a little under it.",
  );
  return notes;
}

export interface GossipResult {
  readonly figures: Figure[];
  readonly notes: string[];
  readonly commands: string[];
}

export async function benchGossip(): Promise<GossipResult> {
  const figures: Figure[] = [];
  const commands: string[] = [];
  const results: { setup: Setup; trials: Trial[] }[] = [];
  for (const setup of SETUPS) {
    await using stack = new AsyncDisposableStack();
    const dir = stack.use(await tempDir("limedb-bench-gossip-"));
    const cluster = await startCluster(stack, MEMBERS, { dataDir: dir.path, backend: "memory", gossip: setup.timing });
    const trials: Trial[] = [];
    for (let trial = 0; trial < setup.trials; trial++) trials.push(await runTrial(cluster.urls, setup, dir.path, trial));
    results.push({ setup, trials });
    figures.push(...setupFigures(setup, trials));
    commands.push(...cluster.shown, nodeCommand({ port: "$PORT_NEW", peers: [nodeUrlOf("$PORT_A")], dataDir: "$TMP", backend: "memory", gossip: setup.timing }).join(" "));
  }
  return { figures, notes: gossipNotes(results), commands };
}
