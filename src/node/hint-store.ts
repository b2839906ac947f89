// Hints: writes a replica missed, kept durably on the coordinator in SQLite until that replica is back.
import { Database, type Statement } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
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

interface Statements {
  readonly db: Database;
  readonly insert: Statement<unknown, [{ $target: string; $record: string; $createdAtMs: number }]>;
  readonly selectBatch: Statement<HintRow, [{ $target: string; $limit: number }]>;
  readonly deleteOne: Statement<unknown, [{ $id: number }]>;
  readonly countAll: Statement<{ n: number }, []>;
  readonly selectTargets: Statement<{ target: string; n: number }, []>;
  readonly trim: Statement<unknown, [{ $max: number }]>;
}

function open(path: string): Statements {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec(`CREATE TABLE IF NOT EXISTS hints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    record TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
  )`);
  db.exec("CREATE INDEX IF NOT EXISTS hints_by_target ON hints (target, id)");
  return {
    db,
    insert: db.query("INSERT INTO hints (target, record, created_at_ms) VALUES ($target, $record, $createdAtMs)"),
    selectBatch: db.query("SELECT id, target, record FROM hints WHERE target = $target ORDER BY id LIMIT $limit"),
    deleteOne: db.query("DELETE FROM hints WHERE id = $id"),
    countAll: db.query("SELECT COUNT(*) AS n FROM hints"),
    selectTargets: db.query("SELECT target, COUNT(*) AS n FROM hints GROUP BY target ORDER BY target"),
    trim: db.query("DELETE FROM hints WHERE id <= (SELECT MAX(id) FROM hints) - $max"),
  };
}

export class HintStore {
  /** Opened on the first hint, or at start when a file from an earlier run holds some: no file until needed. */
  private statements: Statements | undefined;

  /** `path` ":memory:" keeps hints for a node whose data is not durable anyway (the memory backend). */
  constructor(
    private readonly path: string,
    private readonly clock: () => number,
  ) {
    if (path !== ":memory:" && existsSync(path)) this.statements = open(path);
  }

  add(target: string, record: StoredRecord): void {
    this.statements ??= open(this.path);
    this.statements.insert.run({ $target: target, $record: JSON.stringify(toWire(record)), $createdAtMs: this.clock() });
    this.statements.trim.run({ $max: HINTS_MAX });
  }

  /** The oldest hints for a target, in the order they were written. */
  batch(target: string, limit: number): Hint[] {
    if (this.statements === undefined) return [];
    return this.statements.selectBatch.all({ $target: target, $limit: limit }).map((row) => ({
      id: row.id,
      target: row.target,
      record: fromWire(JSON.parse(row.record) as WireRecord),
    }));
  }

  remove(ids: readonly number[]): void {
    const statements = this.statements;
    if (statements === undefined) return;
    statements.db.transaction(() => {
      for (const id of ids) statements.deleteOne.run({ $id: id });
    })();
  }

  /** Hints waiting, per target. */
  backlog(): Map<string, number> {
    return new Map((this.statements?.selectTargets.all() ?? []).map((row) => [row.target, row.n]));
  }

  count(): number {
    return this.statements?.countAll.get()?.n ?? 0;
  }

  close(): void {
    this.statements?.db.close();
    this.statements = undefined;
  }
}
