// Time-bounded load loops and a seeded index stream: every load in bench/ runs for a time budget, never a count.
import { seededRandom } from "../test/support/seeded-random.ts";

// The tests' seeded generator (mulberry32): every run picks the same keys in the same order.
export { seededRandom };

export interface Rate {
  readonly ops: number;
  readonly elapsedMs: number;
  readonly opsPerS: number;
}

/**
 * Runs `step` until `budgetMs` has passed and returns its rate. `step` reports how many operations
 * it did, so it can do a chunk per call and keep the clock reads out of the measured cost. A step
 * is never cut short, so a run overshoots its budget by at most one step.
 */
export async function runFor(budgetMs: number, step: () => Promise<number> | number): Promise<Rate> {
  let ops = 0;
  const start = performance.now();
  let elapsedMs = 0;
  do {
    ops += await step();
    elapsedMs = performance.now() - start;
  } while (elapsedMs < budgetMs);
  return { ops, elapsedMs, opsPerS: (ops * 1000) / elapsedMs };
}

export interface Contender {
  readonly name: string;
  readonly step: () => Promise<number> | number;
}

/**
 * Measures contenders in alternating rounds (a, b, c, a, b, c, …) and adds each one's rounds up.
 * On a shared machine the load from other work drifts; alternating spreads that drift over every
 * contender instead of charging it to whichever ran during a busy moment.
 */
export async function interleave(contenders: readonly Contender[], rounds: number, warmupMs: number, budgetMs: number): Promise<Map<string, Rate>> {
  for (const c of contenders) await runFor(warmupMs, c.step);
  const totals = new Map<string, { ops: number; elapsedMs: number }>(contenders.map((c) => [c.name, { ops: 0, elapsedMs: 0 }]));
  for (let round = 0; round < rounds; round++) {
    for (const c of contenders) {
      const rate = await runFor(budgetMs / rounds, c.step);
      const total = totals.get(c.name)!;
      total.ops += rate.ops;
      total.elapsedMs += rate.elapsedMs;
    }
  }
  return new Map([...totals].map(([name, t]) => [name, { ...t, opsPerS: (t.ops * 1000) / t.elapsedMs }]));
}

/** Precomputed draws, so picking a key costs an array read rather than a random number. */
const STREAM_LENGTH = 1 << 16;

/** An endless stream of indexes in [0, count), the same for the same seed. */
export function indexStream(count: number, seed: number): () => number {
  const random = seededRandom(seed);
  const draws = Uint32Array.from({ length: STREAM_LENGTH }, () => Math.floor(random() * count));
  let next = 0;
  return () => draws[next++ & (STREAM_LENGTH - 1)]!;
}
