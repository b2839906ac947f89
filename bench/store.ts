// Store throughput per backend (memory, fs, sqlite) at 1k and 10k keys: gets, grouped puts and single puts.
import type { StoreBackendName } from "../src/config/settings.ts";
import { againstBaseline, type Figure, type PartResult } from "./figures.ts";
import { formatRatio } from "./report.ts";
import { interleave } from "./load-loop.ts";
import { benchSqliteSync } from "./sqlite-sync.ts";
import { GROUP_PUTS, loadedSteps, openStore, rateDetail } from "./store-load.ts";

export const STORE_SIZES = [1_000, 10_000] as const;
const BACKENDS: readonly StoreBackendName[] = ["memory", "fs", "sqlite"];
const WARMUP_MS = 150;
/** Per figure, split over ROUNDS alternating rounds. */
const BUDGET_MS = 700;
const ROUNDS = 2;

function describe(kind: StoreBackendName): string {
  return kind === "sqlite" ? "sqlite (NORMAL)" : kind;
}

const LOADS = [
  ["get", "get"],
  ["putGrouped", `put, ${GROUP_PUTS} concurrent`],
  ["putSingle", "put, one at a time"],
] as const;

async function benchSize(size: number): Promise<Figure[]> {
  await using memory = await openStore("memory");
  await using fs = await openStore("fs");
  await using sqlite = await openStore("sqlite");
  const opened = [memory, fs, sqlite];
  // fs reads or rewrites the whole file per operation, so its sequential steps do one operation each.
  const steps = await Promise.all(opened.map(({ store }) => loadedSteps(store, size, store.kind === "fs" ? 1 : 32)));
  const figures: Figure[] = [];
  for (const [load, label] of LOADS) {
    const rates = await interleave(BACKENDS.map((kind, i) => ({ name: kind, step: steps[i]![load] })), ROUNDS, WARMUP_MS, BUDGET_MS);
    const rate = (kind: StoreBackendName) => rates.get(kind)!;
    figures.push(
      ...againstBaseline(
        "store",
        `${size / 1000}k keys · ${label}`,
        "ops/s",
        { name: "memory", value: rate("memory").opsPerS, detail: rateDetail(rate("memory")) },
        BACKENDS.filter((kind) => kind !== "memory").map((kind) => ({ name: describe(kind), value: rate(kind).opsPerS, detail: rateDetail(rate(kind)) })),
      ),
    );
  }
  return figures;
}

function storeNotes(figures: readonly Figure[]): string[] {
  const find = (group: string, name: string) => figures.find((f) => f.group === group && f.name === name);
  const fsGet = find("10k keys · get", "fs");
  const fsPut = find("10k keys · put, one at a time", "fs");
  const sqliteGet = find("10k keys · get", "sqlite (NORMAL)");
  const sqlitePut = find(`10k keys · put, ${GROUP_PUTS} concurrent`, "sqlite (NORMAL)");
  if (fsGet === undefined || fsPut === undefined || sqliteGet === undefined || sqlitePut === undefined) return [];
  const fs1k = find("1k keys · get", "fs");
  const scaling = fs1k === undefined ? "" : ` (${(fs1k.value / fsGet.value).toFixed(1)}× slower than at 1k keys: O(n) per operation, by design)`;
  return [
    `At 10k keys sqlite serves gets at ${Math.round(sqliteGet.value).toLocaleString("en-US")} ops/s (${formatRatio(sqliteGet.ratio)} memory) and grouped puts at ${Math.round(sqlitePut.value).toLocaleString("en-US")} ops/s (${formatRatio(sqlitePut.ratio)} memory).`,
    `fs at 10k keys manages ${Math.round(fsGet.value)} gets/s${scaling} and ${Math.round(fsPut.value)} single puts/s; grouping amortises its whole-file rewrite over the batch.`,
  ];
}

export async function benchStore(): Promise<PartResult> {
  const started = performance.now();
  const figures: Figure[] = [];
  for (const size of STORE_SIZES) figures.push(...(await benchSize(size)));
  const sync = await benchSqliteSync();
  return { part: "store", figures: [...figures, ...sync.figures], notes: [...storeNotes(figures), ...sync.notes], commands: [], elapsedMs: performance.now() - started };
}
