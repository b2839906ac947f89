// SQLite durability: the backend's group commit at synchronous NORMAL and FULL against a naive one-INSERT-per-transaction loop.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import type { SqliteSyncMode } from "../src/config/settings.ts";
import { tempDir, type TempDir } from "./cleanup.ts";
import { againstBaseline, type PartResult } from "./figures.ts";
import { indexStream, interleave, type Contender } from "./load-loop.ts";
import { GROUP_PUTS, VALUE, keyNames, loadedSteps, openStore, rateDetail } from "./store-load.ts";

const KEYS = 1_000;
const WARMUP_MS = 200;
/** Per figure, split over ROUNDS alternating rounds. */
const BUDGET_MS = 700;
const ROUNDS = 2;
/** Single puts per step: at FULL each is an fsync of about a millisecond, so a step stays short. */
const SINGLE_CHUNK = 8;
const SEED = 0x5e1ec7;

interface NaiveLoop extends AsyncDisposable {
  readonly step: () => number;
}

/** What an application would write without a batcher: autocommit, so one transaction (and one WAL sync) per INSERT. */
async function naiveLoop(sync: SqliteSyncMode): Promise<NaiveLoop> {
  const dir: TempDir = await tempDir();
  const db = new Database(join(dir.path, "naive.sqlite"), { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(`PRAGMA synchronous = ${sync === "full" ? "FULL" : "NORMAL"}`);
  db.exec("CREATE TABLE kv (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)");
  const insert = db.query<unknown, [string, string]>("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)");
  const keys = keyNames(KEYS);
  db.transaction(() => {
    for (const key of keys) insert.run(key, VALUE);
  })();
  const pick = indexStream(KEYS, SEED);
  return {
    step: () => {
      for (let i = 0; i < SINGLE_CHUNK; i++) insert.run(keys[pick()]!, VALUE);
      return SINGLE_CHUNK;
    },
    async [Symbol.asyncDispose]() {
      db.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

const NAIVE_FULL = "naive bun:sqlite, FULL, 1 INSERT per transaction";
const NAIVE_NORMAL = "naive bun:sqlite, NORMAL, 1 INSERT per transaction";
const FULL_SINGLE = "SqliteBackend FULL, one at a time";
const FULL_GROUPED = `SqliteBackend FULL, ${GROUP_PUTS} concurrent`;
const NORMAL_SINGLE = "SqliteBackend NORMAL, one at a time";
const NORMAL_GROUPED = `SqliteBackend NORMAL, ${GROUP_PUTS} concurrent`;

export async function benchSqliteSync(): Promise<Pick<PartResult, "figures" | "notes">> {
  await using naiveFull = await naiveLoop("full");
  await using naiveNormal = await naiveLoop("normal");
  await using full = await openStore("sqlite", "full");
  await using normal = await openStore("sqlite", "normal");
  const fullSteps = await loadedSteps(full.store, KEYS, SINGLE_CHUNK);
  const normalSteps = await loadedSteps(normal.store, KEYS, SINGLE_CHUNK);
  const contenders: Contender[] = [
    { name: NAIVE_FULL, step: naiveFull.step },
    { name: NAIVE_NORMAL, step: naiveNormal.step },
    { name: FULL_SINGLE, step: fullSteps.putSingle },
    { name: FULL_GROUPED, step: fullSteps.putGrouped },
    { name: NORMAL_SINGLE, step: normalSteps.putSingle },
    { name: NORMAL_GROUPED, step: normalSteps.putGrouped },
  ];
  const rates = await interleave(contenders, ROUNDS, WARMUP_MS, BUDGET_MS);
  const rate = (name: string) => rates.get(name)!;
  const figure = (name: string) => ({ name, value: rate(name).opsPerS, detail: rateDetail(rate(name)) });
  const figures = againstBaseline("store", `SQLite puts, ${KEYS / 1000}k keys`, "ops/s", figure(NAIVE_FULL), contenders.slice(1).map((c) => figure(c.name)));
  const ops = (name: string) => Math.round(rate(name).opsPerS).toLocaleString("en-US");
  const times = (a: string, b: string) => `${(rate(a).opsPerS / rate(b).opsPerS).toFixed(1)}×`;
  const notes = [
    `Group commit at FULL: ${GROUP_PUTS} concurrent puts reach ${ops(FULL_GROUPED)} ops/s, ${times(FULL_GROUPED, NAIVE_FULL)} the naive one-INSERT-per-transaction loop (${ops(NAIVE_FULL)} ops/s) and ${times(FULL_GROUPED, FULL_SINGLE)} the same backend fed one put at a time (${ops(FULL_SINGLE)} ops/s).`,
    `At NORMAL, ${GROUP_PUTS} concurrent puts reach ${ops(NORMAL_GROUPED)} ops/s, ${times(NORMAL_GROUPED, NAIVE_NORMAL)} the naive NORMAL loop (${ops(NAIVE_NORMAL)} ops/s); FULL grouped keeps ${times(FULL_GROUPED, NORMAL_GROUPED)} of NORMAL grouped.`,
  ];
  return { figures, notes };
}
