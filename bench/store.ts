// Store throughput per backend (memory, fs, sqlite) at 1k, 10k and 100k keys: gets, grouped puts and single puts.
import type { StoreBackendName } from "../src/config/settings.ts";
import type { Backend } from "../src/store/backend.ts";
import type { StoredRecord } from "../src/store/record.ts";
import { againstBaseline, type Figure, type PartResult } from "./figures.ts";
import { interleave } from "./load-loop.ts";
import { formatRatio } from "./report.ts";
import { benchSqliteSync } from "./sqlite-sync.ts";
import { BENCH_NODE, GROUP_PUTS, keyNames, openStore, preload, rateDetail, recordMaker, steps } from "./store-load.ts";

/** The largest store size: where fs, O(n) per operation by design, runs out of time first. */
const KEYS_MAX = 100_000;
export const STORE_SIZES = [1_000, 10_000, KEYS_MAX] as const;
const BACKENDS: readonly StoreBackendName[] = ["memory", "fs", "sqlite"];
const WARMUP_MS = 150;
/** Per figure, split over ROUNDS alternating rounds. */
const BUDGET_MS = 700;
const ROUNDS = 2;
/**
 * Growing a store to the next size must end within this. fs rewrites its whole file per batch of
 * 1,024 puts, so growing it from 10k to 100k keys is about 90 rewrites of up to 100k records; where
 * that takes longer, fs is reported as not measured at that size rather than holding up the run.
 */
const GROW_BOUND_MS = 20_000;

/** One backend, grown in place from size to size so each size preloads only the keys it adds. */
interface Grown {
  readonly kind: StoreBackendName;
  readonly store: Backend;
  /** Shared by the preload and the puts, so every put carries a newer version and really writes. */
  readonly make: (key: string) => StoredRecord;
  readonly held: number;
  readonly growMs: number;
  /** Set once a growth ran out of time: why this backend is not measured at this size or any larger one. */
  readonly stopped: string | undefined;
}

const size = (keys: number) => `${keys / 1000}k`;

function describe(kind: StoreBackendName): string {
  return kind === "sqlite" ? "sqlite (NORMAL)" : kind;
}

/** Adds keys up to `target`, bounded in time; a backend that stopped earlier is left as it is. */
async function grow(grown: Grown, keys: readonly string[], target: number): Promise<Grown> {
  if (grown.stopped !== undefined) return grown;
  const started = performance.now();
  const written = await preload(grown.store, keys.slice(grown.held, target), grown.make, GROW_BOUND_MS);
  const growMs = performance.now() - started;
  const held = grown.held + written;
  const stopped =
    held >= target
      ? undefined
      : `not measured: growing the store from ${size(grown.held)} to ${size(target)} keys through put (batches of 1,024 concurrent puts, the largest group commit) reached ${held.toLocaleString("en-US")} keys at the ${GROW_BOUND_MS / 1000} s bound`;
  return { ...grown, held, growMs, stopped };
}

const LOADS = [
  ["get", "get"],
  ["putGrouped", `put, ${GROUP_PUTS} concurrent`],
  ["putSingle", "put, one at a time"],
] as const;

/** Every load on every backend that holds `count` keys, in alternating rounds; the others get a not-measured row. */
async function benchSize(count: number, backends: readonly Grown[], keys: readonly string[]): Promise<Figure[]> {
  const ready = backends.filter((b) => b.stopped === undefined);
  if (ready[0]?.kind !== "memory") throw new Error("bench: the memory baseline must hold every size");
  // fs reads or rewrites the whole file per operation, so its sequential steps do one operation each.
  const loadSteps = ready.map((b) => steps(b.store, keys.slice(0, count), b.make, b.kind === "fs" ? 1 : 32));
  const figures: Figure[] = [];
  for (const [load, label] of LOADS) {
    const rates = await interleave(ready.map((b, i) => ({ name: b.kind, step: loadSteps[i]![load] })), ROUNDS, WARMUP_MS, BUDGET_MS);
    const row = (b: Grown) => {
      const rate = rates.get(b.kind);
      return rate === undefined ? { name: describe(b.kind), value: Number.NaN, detail: b.stopped ?? "not measured" } : { name: describe(b.kind), value: rate.opsPerS, detail: rateDetail(rate) };
    };
    const [memory, ...others] = backends.map(row);
    figures.push(...againstBaseline("store", `${size(count)} keys · ${label}`, "ops/s", memory!, others));
  }
  return figures;
}

function storeNotes(figures: readonly Figure[], grown: readonly Grown[]): string[] {
  const find = (group: string, name: string) => figures.find((f) => f.group === group && f.name === name);
  const ops = (f: Figure | undefined) => (f === undefined || Number.isNaN(f.value) ? "—" : Math.round(f.value).toLocaleString("en-US"));
  const sqliteGet = find(`${size(KEYS_MAX)} keys · get`, "sqlite (NORMAL)");
  const sqliteGet10k = find("10k keys · get", "sqlite (NORMAL)");
  const sqlitePut = find(`${size(KEYS_MAX)} keys · put, ${GROUP_PUTS} concurrent`, "sqlite (NORMAL)");
  const fsGet = find("10k keys · get", "fs");
  const fsGet1k = find("1k keys · get", "fs");
  const fsPut = find("10k keys · put, one at a time", "fs");
  const scaling = fsGet === undefined || fsGet1k === undefined ? "" : ` (${(fsGet1k.value / fsGet.value).toFixed(1)}× slower than at 1k keys: O(n) per operation, by design)`;
  const growth = grown.map((g) => (g.stopped === undefined ? `${g.kind} ${(g.growMs / 1000).toFixed(1)} s` : `${g.kind} stopped at ${g.held.toLocaleString("en-US")} keys after ${(g.growMs / 1000).toFixed(1)} s`));
  return [
    `At ${size(KEYS_MAX)} keys sqlite serves gets at ${ops(sqliteGet)} ops/s (${formatRatio(sqliteGet?.ratio ?? Number.NaN)} memory; ${ops(sqliteGet10k)} at 10k) and grouped puts at ${ops(sqlitePut)} ops/s (${formatRatio(sqlitePut?.ratio ?? Number.NaN)} memory).`,
    `fs at 10k keys manages ${ops(fsGet)} gets/s${scaling} and ${ops(fsPut)} single puts/s; grouping amortises its whole-file rewrite over the batch.`,
    `Growing each store from 10k to ${size(KEYS_MAX)} keys through put took: ${growth.join(", ")}.`,
  ];
}

async function benchSizes(): Promise<Pick<PartResult, "figures" | "notes">> {
  await using stack = new AsyncDisposableStack();
  const keys = keyNames(KEYS_MAX);
  let grown: Grown[] = [];
  for (const kind of BACKENDS) {
    const { store } = stack.use(await openStore(kind));
    grown.push({ kind, store, make: recordMaker(BENCH_NODE), held: 0, growMs: 0, stopped: undefined });
  }
  const figures: Figure[] = [];
  for (const count of STORE_SIZES) {
    // One at a time, so a growth's bound measures that backend alone.
    const next: Grown[] = [];
    for (const g of grown) next.push(await grow(g, keys, count));
    grown = next;
    figures.push(...(await benchSize(count, grown, keys)));
  }
  return { figures, notes: storeNotes(figures, grown) };
}

export async function benchStore(): Promise<PartResult> {
  const started = performance.now();
  const sizes = await benchSizes();
  const sync = await benchSqliteSync();
  return { part: "store", figures: [...sizes.figures, ...sync.figures], notes: [...sizes.notes, ...sync.notes], commands: [], elapsedMs: performance.now() - started };
}
