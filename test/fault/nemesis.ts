// The nemesis: each fault applies itself to a running fault cluster, holds for its window, heals, and
// returns the windows in which it was in force with the groups of nodes it treated alike. Healing runs in a
// finally block, so a fault that throws still leaves every link up, every node continued and every clock true.
import { cutBetween, healAll } from "./firewall.ts";
import type { FaultCluster } from "./fault-cluster.ts";
import type { FaultWindow, NodeGroup } from "./history.ts";
import { CLOCK_SETTLE_MS, type FaultNode } from "./isolation.ts";

/** A pause lasts 2 to 10 s (shorter when the window ends first), then the node runs for a moment before the next. */
export const PAUSE_MIN_MS = 2_000;
export const PAUSE_MAX_MS = 10_000;
/** A killed node stays down this long before it is restarted with the same data dir and URL. */
export const DOWN_MIN_MS = 2_000;
export const DOWN_MAX_MS = 6_000;
/** Between two pauses or kills the node runs this long, so clients see it come back. */
const BETWEEN_MS = 1_000;
/** Skews within MAX_CLOCK_SKEW_MS (500 by default) that the cluster must tolerate, and far ones it must refuse. */
export const SKEWS_MS = { "+30s": 30_000, "-30s": -30_000, "+1h": 3_600_000, "+400ms": 400, "-400ms": -400 } as const;
/** The mixed fault plays this many random faults one after the other within its window. */
const MIXED_STEPS = 3;

export interface NemesisContext {
  readonly cluster: FaultCluster;
  readonly random: () => number;
  readonly now: () => number;
  readonly log: (line: string) => void;
}

export type Fault = (context: NemesisContext, windowMs: number) => Promise<FaultWindow[]>;

function shuffledNodes(context: NemesisContext): FaultNode[] {
  const out = context.cluster.nodes.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(context.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function group(name: string, nodes: readonly FaultNode[], minority = false): NodeGroup {
  return { name, nodes: nodes.map((node) => node.url), minority };
}

/** Sleeps until `untilMs` on the test clock (not past it). */
async function sleepUntil(context: NemesisContext, untilMs: number): Promise<void> {
  const wait = untilMs - context.now();
  if (wait > 0) await Bun.sleep(wait);
}

function between(context: NemesisContext, minMs: number, maxMs: number): number {
  return minMs + Math.floor(context.random() * (maxMs - minMs));
}

/** Cuts the sides apart (every pair across them, both ways), holds, heals. */
async function partitioned(context: NemesisContext, name: string, windowMs: number, sides: readonly NodeGroup[], cuts: readonly [readonly FaultNode[], readonly FaultNode[]][]): Promise<FaultWindow[]> {
  const startMs = context.now();
  try {
    for (const [a, b] of cuts) cutBetween(a.map((n) => n.identity), b.map((n) => n.identity));
    context.log(`${name}: ${sides.map((side) => `${side.name} [${side.nodes.join(" ")}]`).join(" | ")}`);
    await sleepUntil(context, startMs + windowMs);
  } finally {
    healAll();
  }
  return [{ fault: name, startMs, endMs: context.now(), groups: sides }];
}

/** (a) Three nodes on one side, two on the other. */
export const majorityMinority: Fault = (context, windowMs) => {
  const nodes = shuffledNodes(context);
  const majority = nodes.slice(0, 3);
  const minority = nodes.slice(3);
  return partitioned(context, "partition 3|2", windowMs, [group("majority", majority), group("minority", minority, true)], [[majority, minority]]);
};

/** (b) One node cut off from all the others. */
export const isolateOne: Fault = (context, windowMs) => {
  const [alone, ...rest] = shuffledNodes(context);
  return partitioned(context, "one node isolated", windowMs, [group("rest", rest), group("isolated", [alone!], true)], [[[alone!], rest]]);
};

/** (c) Two halves that both see one middle node but not each other: every node sees a majority, no two views agree. */
export const bridge: Fault = (context, windowMs) => {
  const [a, b, middle, d, e] = shuffledNodes(context) as [FaultNode, FaultNode, FaultNode, FaultNode, FaultNode];
  return partitioned(context, "bridge", windowMs, [group("halves", [a, b, d, e]), group("bridge", [middle])], [[[a, b], [d, e]]]);
};

/** (d) One node stopped with SIGSTOP for 2 to 10 s, continued, and again while the window lasts. */
export const pause: Fault = async (context, windowMs) => {
  const [node, ...rest] = shuffledNodes(context);
  const endMs = context.now() + windowMs;
  const windows: FaultWindow[] = [];
  try {
    while (context.now() + PAUSE_MIN_MS / 2 < endMs) {
      const startMs = context.now();
      const lengthMs = Math.round(Math.min(between(context, PAUSE_MIN_MS, PAUSE_MAX_MS), endMs - startMs));
      node!.pause();
      context.log(`pause: ${node!.url} stopped for ${lengthMs} ms`);
      await sleepUntil(context, startMs + lengthMs);
      node!.resume();
      windows.push({ fault: "pause", startMs, endMs: context.now(), groups: [group("paused", [node!]), group("rest", rest)] });
      await sleepUntil(context, Math.min(endMs, context.now() + BETWEEN_MS));
    }
  } finally {
    node!.resume();
  }
  return windows;
};

/** (e) One node killed with SIGKILL, left down a few seconds, restarted with its data dir and URL, and again. */
export const killRestart: Fault = async (context, windowMs) => {
  const [node, ...rest] = shuffledNodes(context);
  const endMs = context.now() + windowMs;
  const windows: FaultWindow[] = [];
  try {
    while (context.now() + DOWN_MIN_MS / 2 < endMs) {
      const startMs = context.now();
      await node!.kill9();
      const downMs = Math.round(Math.min(between(context, DOWN_MIN_MS, DOWN_MAX_MS), endMs - startMs));
      context.log(`kill: ${node!.url} killed (-9) for ${downMs} ms`);
      await sleepUntil(context, startMs + downMs);
      await node!.restart();
      windows.push({ fault: "kill -9", startMs, endMs: context.now(), groups: [group("killed", [node!]), group("rest", rest)] });
      await sleepUntil(context, Math.min(endMs, context.now() + BETWEEN_MS));
    }
  } finally {
    if (node!.pid === undefined) await node!.restart();
  }
  return windows;
};

/**
 * (f) One node's wall clock set `offsetMs` off for the window (monotonic time untouched), then set right again; with
 * `count` 2, two nodes' clocks step together (one machine, one bad time server): a write quorum of their own.
 */
export function clockSkew(label: keyof typeof SKEWS_MS, count: 1 | 2 = 1): Fault {
  return async (context, windowMs) => {
    const nodes = shuffledNodes(context);
    const skewed = nodes.slice(0, count);
    const rest = nodes.slice(count);
    const startMs = context.now();
    try {
      await Promise.all(skewed.map((node) => node.setClockOffset(SKEWS_MS[label])));
      context.log(`skew: ${skewed.map((node) => node.url).join(" and ")} clock ${label}`);
      await sleepUntil(context, startMs + Math.max(windowMs, CLOCK_SETTLE_MS));
    } finally {
      await Promise.all(skewed.map((node) => node.setClockOffset(0)));
      await Bun.sleep(CLOCK_SETTLE_MS);
    }
    return [{ fault: count === 1 ? `clock ${label}` : `${count} clocks ${label}`, startMs, endMs: context.now(), groups: [group("skewed", skewed), group("rest", rest)] }];
  };
}

/** (g) A 3|2 partition with one minority node's clock 30 s ahead: its writes would win every later comparison. */
export const partitionWithSkew: Fault = async (context, windowMs) => {
  const nodes = shuffledNodes(context);
  const majority = nodes.slice(0, 3);
  const minority = nodes.slice(3);
  const skewed = minority[0]!;
  try {
    await skewed.setClockOffset(SKEWS_MS["+30s"]);
    context.log(`partition + skew: ${skewed.url} clock +30s`);
    return await partitioned(context, "partition 3|2 + skew", windowMs, [group("majority", majority), group("minority", minority, true)], [[majority, minority]]);
  } finally {
    await skewed.setClockOffset(0);
    await Bun.sleep(CLOCK_SETTLE_MS);
  }
};

/** (h) A random sequence of the faults above, each for a share of the window, each healed before the next. */
export const mixed: Fault = async (context, windowMs) => {
  const choices = Object.entries(SINGLE_FAULTS);
  const windows: FaultWindow[] = [];
  const stepMs = windowMs / MIXED_STEPS;
  for (let step = 0; step < MIXED_STEPS; step++) {
    const [name, fault] = choices[Math.floor(context.random() * choices.length)]!;
    context.log(`mixed step ${step + 1}: ${name}`);
    windows.push(...(await fault(context, stepMs)));
  }
  return windows;
};

/** The faults one can name; letters a to h of the issue select groups of them. */
const SINGLE_FAULTS = {
  partition: majorityMinority,
  isolate: isolateOne,
  bridge,
  pause,
  kill: killRestart,
  "skew+30s": clockSkew("+30s"),
  "skew-30s": clockSkew("-30s"),
  "skew+1h": clockSkew("+1h"),
  "skew+400ms": clockSkew("+400ms"),
  "skew-400ms": clockSkew("-400ms"),
  "skew2+1h": clockSkew("+1h", 2),
  "partition+skew": partitionWithSkew,
} as const satisfies Record<string, Fault>;

export const FAULTS: Readonly<Record<string, Fault>> = { ...SINGLE_FAULTS, mixed };
export const FAULT_NAMES = Object.keys(FAULTS);

const LETTERS: Readonly<Record<string, readonly string[]>> = {
  a: ["partition"],
  b: ["isolate"],
  c: ["bridge"],
  d: ["pause"],
  e: ["kill"],
  f: ["skew+30s", "skew-30s", "skew+1h", "skew+400ms", "skew-400ms", "skew2+1h"],
  g: ["partition+skew"],
  h: ["mixed"],
};

/** Fault names from a comma-separated list of names and letters; throws on an unknown one. */
export function parseFaults(text: string): string[] {
  const names = text.split(",").map((word) => word.trim()).filter((word) => word !== "");
  const out = names.flatMap((name) => LETTERS[name] ?? [name]);
  const unknown = out.filter((name) => !(name in FAULTS));
  if (unknown.length > 0) throw new Error(`unknown fault(s) ${unknown.join(", ")}; known: ${FAULT_NAMES.join(", ")} or letters a-h`);
  return out;
}
