// Hints: writes a replica missed, kept durably on the coordinator in SQLite until that replica is back.
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { StoredRecord } from "../store/record.ts";
import { fromWire, toWire, type WireRecord } from "./record-wire.ts";

/** A bound on the backlog: past it the oldest hints go, and anti-entropy repairs what they carried. */
export const HINTS_MAX = 1_000_000;

export interface Hint {
  readonly id: number;
  readonly target: string;
  readonly record: StoredRecord;
}

interface HintRow {
  id: number;
  target: string;
  record: string;
}

export class HintStore {
  private readonly db: Database;
  private readonly insert: Statement<unknown, [{ $target: string; $record: string; $createdAtMs: number }]>;
  private readonly selectBatch: Statement<HintRow, [{ $target: string; $limit: number }]>;
  private readonly deleteOne: Statement<unknown, [{ $id: number }]>;
  private readonly countAll: Statement<{ n: number }, []>;
  private readonly selectTargets: Statement<{ target: string; n: number }, []>;
  private readonly trim: Statement<unknown, [{ $max: number }]>;

  /** `path` ":memory:" keeps hints for a node whose data is not durable anyway (the memory backend). */
  constructor(path: string, private readonly clock: () => number) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = NORMAL");
    this.db.exec(`CREATE TABLE IF NOT EXISTS hints (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      target TEXT NOT NULL,
      record TEXT NOT NULL,
      created_at_ms INTEGER NOT NULL
    )`);
    this.db.exec("CREATE INDEX IF NOT EXISTS hints_by_target ON hints (target, id)");
    this.insert = this.db.query("INSERT INTO hints (target, record, created_at_ms) VALUES ($target, $record, $createdAtMs)");
    this.selectBatch = this.db.query("SELECT id, target, record FROM hints WHERE target = $target ORDER BY id LIMIT $limit");
    this.deleteOne = this.db.query("DELETE FROM hints WHERE id = $id");
    this.countAll = this.db.query("SELECT COUNT(*) AS n FROM hints");
    this.selectTargets = this.db.query("SELECT target, COUNT(*) AS n FROM hints GROUP BY target ORDER BY target");
    this.trim = this.db.query("DELETE FROM hints WHERE id <= (SELECT MAX(id) FROM hints) - $max");
  }

  add(target: string, record: StoredRecord): void {
    this.insert.run({ $target: target, $record: JSON.stringify(toWire(record)), $createdAtMs: this.clock() });
    this.trim.run({ $max: HINTS_MAX });
  }

  /** The oldest hints for a target, in the order they were written. */
  batch(target: string, limit: number): Hint[] {
    return this.selectBatch.all({ $target: target, $limit: limit }).map((row) => ({
      id: row.id,
      target: row.target,
      record: fromWire(JSON.parse(row.record) as WireRecord),
    }));
  }

  remove(ids: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.deleteOne.run({ $id: id });
    })();
  }

  /** Hints waiting, per target. */
  backlog(): Map<string, number> {
    return new Map(this.selectTargets.all().map((row) => [row.target, row.n]));
  }

  count(): number {
    return this.countAll.get()?.n ?? 0;
  }

  close(): void {
    this.db.close();
  }
}
