// The clients of a fault run: register clients overwrite a few keys with unique values and read them back,
// set clients write each key once; every request goes to a node picked per operation, carries a deadline,
// and lands in the history with its invocation and completion time on the test process's monotonic clock.
import type { Operation, Outcome, Phase, ReadOperation, Workload, WriteOperation } from "./history.ts";

/** A request unanswered by then counts as "maybe applied": above the nodes' 2 s forward timeout, so a coordinator can answer 504 first. */
export const REQUEST_DEADLINE_MS = 3_000;
export const REGISTER_KEYS = 20;
export const REGISTER_CLIENTS = 5;
export const SET_CLIENTS = 2;
/** Share of register operations that read; the rest write. */
const READ_SHARE = 0.5;
/** Pause between one client's operations, so seven clients leave the five nodes CPU to gossip on two cores. */
const THINK_MS = 10;
/**
 * Set clients pause longer: every set key is read through all five nodes after healing, so their rate sets
 * the cost of the end check (about 30 keys a second for two clients).
 */
const SET_THINK_MS = 50;
/** Requests in flight while reading every key through every node after healing. */
const FINAL_CONCURRENCY = 8;

export interface WorkloadContext {
  /** Unique per run, so values and set keys of two runs never meet. */
  readonly runId: string;
  readonly nodes: readonly string[];
  readonly random: () => number;
  readonly now: () => number;
  readonly history: Operation[];
}

type Answer = { status: number; body: string } | { error: string };

async function request(url: string, init?: RequestInit): Promise<Answer> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_DEADLINE_MS) });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return { error: error instanceof Error ? error.name : String(error) };
  }
}

function answerText(answer: Answer): string {
  return "status" in answer ? String(answer.status) : answer.error;
}

/** 200 applied; 4xx refused as asked; anything else (503, 504, other 5xx, no answer) may or may not have been applied. */
function writeOutcome(answer: Answer): Outcome {
  if (!("status" in answer)) return "maybe";
  if (answer.status === 200) return "ok";
  return answer.status >= 400 && answer.status < 500 ? "fail" : "maybe";
}

export async function writeKey(context: WorkloadContext, base: { workload: Workload; client: number; key: string; value: string; node: string }): Promise<WriteOperation> {
  const invokedMs = context.now();
  const answer = await request(`${base.node}/api/v1/set`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: base.key, value: base.value }) });
  const op: WriteOperation = { ...base, kind: "write", phase: "run", invokedMs, completedMs: context.now(), outcome: writeOutcome(answer), answer: answerText(answer) };
  context.history.push(op);
  return op;
}

export async function readKey(context: WorkloadContext, base: { workload: Workload; phase: Phase; client: number; key: string; node: string }): Promise<ReadOperation> {
  const invokedMs = context.now();
  const answer = await request(`${base.node}/api/v1/get/${encodeURIComponent(base.key)}`);
  const completedMs = context.now();
  let outcome: Outcome = "maybe";
  let seen: string | null | undefined;
  if ("status" in answer && answer.status === 200) {
    outcome = "ok";
    seen = (JSON.parse(answer.body) as { value: string }).value;
  } else if ("status" in answer && answer.status === 404) {
    outcome = "ok";
    seen = null;
  } else if ("status" in answer && answer.status < 500) {
    outcome = "fail";
  }
  const op: ReadOperation = { ...base, kind: "read", invokedMs, completedMs, outcome, answer: answerText(answer), ...(seen === undefined ? {} : { seen }) };
  context.history.push(op);
  return op;
}

function pick<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("nothing to pick from");
  return item;
}

export function registerKeys(runId: string): string[] {
  return Array.from({ length: REGISTER_KEYS }, (_, i) => `reg-${runId}-${i}`);
}

/** Clients running until `stop` resolves; resolves once every client has finished its last operation. */
export async function runClients(context: WorkloadContext, stop: Promise<void>): Promise<void> {
  let stopping = false;
  void stop.then(() => (stopping = true));
  const keys = registerKeys(context.runId);
  const register = async (client: number) => {
    for (let n = 0; !stopping; n++) {
      const key = pick(keys, context.random);
      const node = pick(context.nodes, context.random);
      if (context.random() < READ_SHARE) await readKey(context, { workload: "register", phase: "run", client, key, node });
      else await writeKey(context, { workload: "register", client, key, node, value: `${key}=${client}.${n}` });
      await Bun.sleep(THINK_MS);
    }
  };
  const set = async (client: number) => {
    for (let n = 0; !stopping; n++) {
      const key = `set-${context.runId}-${client}-${n}`;
      await writeKey(context, { workload: "set", client, key, node: pick(context.nodes, context.random), value: `${client}.${n}` });
      await Bun.sleep(SET_THINK_MS);
    }
  };
  await Promise.all([
    ...Array.from({ length: REGISTER_CLIENTS }, (_, i) => register(i)),
    ...Array.from({ length: SET_CLIENTS }, (_, i) => set(REGISTER_CLIENTS + i)),
  ]);
}

/** Every key written, with its workload, in a stable order. */
export function writtenKeys(history: readonly Operation[]): { key: string; workload: Workload }[] {
  const keys = new Map<string, Workload>();
  for (const op of history) if (op.kind === "write") keys.set(op.key, op.workload);
  return [...keys].map(([key, workload]) => ({ key, workload }));
}

/** Reads every written key once through every node, as final reads: what the cluster holds after healing. */
export async function finalReads(context: WorkloadContext): Promise<void> {
  const reads = writtenKeys(context.history).flatMap(({ key, workload }) => context.nodes.map((node) => ({ key, workload, node })));
  let next = 0;
  const worker = async (client: number) => {
    for (let i = next++; i < reads.length; i = next++) await readKey(context, { ...reads[i]!, phase: "final", client });
  };
  await Promise.all(Array.from({ length: FINAL_CONCURRENCY }, (_, i) => worker(1000 + i)));
}
