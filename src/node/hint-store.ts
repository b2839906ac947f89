// Hints: writes a replica missed, kept durably on the coordinator in SQLite until that replica is back.
import { Database, type Statement } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { StoredRecord } from "../store/record.ts";
import { fromWire, toWire, type WireRecord } from "./record-wire.ts";

/** A bound on the backlog's rows; a hint past it is dropped, and anti-entropy repairs what it carried. */
export const HINTS_MAX = 1_000_000;
/**
 * A bound on the backlog's bytes (each hint's record as stored JSON). 256 MiB holds minutes of writes
 * at full speed for a replica that is down, yet a replica that never returns can no longer fill the
 * disk with HINTS_MAX values of 1 MiB (1 TB).
 */
export const HINT_BYTES_MAX = 256 * 1024 * 1024;
/**
 * A bound on one target's bytes: a quarter of the total, so one replica that never returns (or a fake
 * member that draws writes to itself) cannot take the room the hints of every other replica need.
 */
export const HINT_BYTES_PER_TARGET_MAX = 64 * 1024 * 1024;

/** Why hints were dropped undelivered: a cap, a target the cluster forgot, or a replica refusing the record. */
export const HINT_DROP_REASONS = ["bytes_cap", "rows_cap", "forgotten", "refused"] as const;
export type HintDropReason = (typeof HINT_DROP_REASONS)[number];

export interface Hint {
  readonly id: number;
  readonly target: string;
  readonly record: StoredRecord;
}

export interface HintStoreOptions {
  /** Smaller caps, for tests only: main always runs with the constants above. */
  readonly rowsMax?: number;
  readonly bytesMax?: number;
  readonly bytesPerTargetMax?: number;
  /** Hears every drop with the number of hints dropped; main counts them in /metrics. */
  readonly onDrop?: (reason: HintDropReason, hints: number) => void;
}

/** What one target's backlog holds, kept in memory so a cap check costs no query. */
interface Tally {
  rows: number;
  bytes: number;
}

interface HintRow {
  id: number;
  target: string;
  record: string;
}

/** The byte length SQLite holds for a record's text: the same count Buffer.byteLength gives on insert. */
const RECORD_BYTES = "length(CAST(record AS BLOB))";

interface Statements {
  readonly db: Database;
  readonly insert: Statement<unknown, [{ $target: string; $record: string; $createdAtMs: number }]>;
  readonly selectBatch: Statement<HintRow, [{ $target: string; $limit: number }]>;
  readonly deleteOne: Statement<{ target: string; bytes: number }, [{ $id: number }]>;
  readonly deleteTarget: Statement<unknown, [{ $target: string }]>;
  readonly selectTallies: Statement<{ target: string; rows: number; bytes: number }, []>;
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
    deleteOne: db.query(`DELETE FROM hints WHERE id = $id RETURNING target, ${RECORD_BYTES} AS bytes`),
    deleteTarget: db.query("DELETE FROM hints WHERE target = $target"),
    selectTallies: db.query(`SELECT target, COUNT(*) AS rows, SUM(${RECORD_BYTES}) AS bytes FROM hints GROUP BY target`),
  };
}

/**
 * The hint backlog. Rows and bytes are tallied per target as hints come and go (one scan of the file
 * when it is opened), so a cap check, the backlog and the count cost no query.
 */
export class HintStore {
  /** Opened on the first hint, or at start when a file from an earlier run holds some: no file until needed. */
  private statements: Statements | undefined;
  private readonly tallies = new Map<string, Tally>();
  private readonly total: Tally = { rows: 0, bytes: 0 };
  private readonly drops = new Map<HintDropReason, number>();

  /** `path` ":memory:" keeps hints for a node whose data is not durable anyway (the memory backend). */
  constructor(
    private readonly path: string,
    private readonly clock: () => number,
    private readonly options: HintStoreOptions = {},
  ) {
    if (path !== ":memory:" && existsSync(path)) this.statements = this.openAndTally();
  }

  /**
   * Keeps a hint, unless it would pass a cap: then this hint is dropped (and counted), not the oldest.
   * What is kept stays the replica's missed writes from the first on, delivered in order, and a write
   * never pays for deleting others; anti-entropy repairs whatever the dropped ones carried.
   */
  add(target: string, record: StoredRecord): boolean {
    const text = JSON.stringify(toWire(record));
    const bytes = Buffer.byteLength(text, "utf8");
    const over = this.capPassed(target, bytes);
    if (over !== undefined) {
      this.dropped(over, 1);
      return false;
    }
    this.statements ??= this.openAndTally();
    this.statements.insert.run({ $target: target, $record: text, $createdAtMs: this.clock() });
    this.account(target, 1, bytes);
    return true;
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

  /** Removes delivered hints. */
  remove(ids: readonly number[]): void {
    const statements = this.statements;
    if (statements === undefined) return;
    statements.db.transaction(() => {
      for (const id of ids) {
        for (const gone of statements.deleteOne.all({ $id: id })) this.account(gone.target, -1, -gone.bytes);
      }
    })();
  }

  /** Removes hints that will never be delivered, counted under `reason`. */
  drop(ids: readonly number[], reason: HintDropReason): void {
    const before = this.total.rows;
    this.remove(ids);
    this.dropped(reason, before - this.total.rows);
  }

  /** Removes every hint for a target, counted under `reason`. */
  dropTarget(target: string, reason: HintDropReason): void {
    const tally = this.tallies.get(target);
    if (this.statements === undefined || tally === undefined) return;
    const { rows, bytes } = tally;
    this.statements.deleteTarget.run({ $target: target });
    this.account(target, -rows, -bytes);
    this.dropped(reason, rows);
  }

  /** Hints waiting, per target, sorted by target. */
  backlog(): Map<string, number> {
    return new Map([...this.tallies].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([target, tally]) => [target, tally.rows]));
  }

  count(): number {
    return this.total.rows;
  }

  /** Bytes of the records waiting, in all and per target. */
  bytes(target?: string): number {
    return target === undefined ? this.total.bytes : (this.tallies.get(target)?.bytes ?? 0);
  }

  /** Hints dropped undelivered since start, by reason. */
  droppedCount(reason: HintDropReason): number {
    return this.drops.get(reason) ?? 0;
  }

  close(): void {
    this.statements?.db.close();
    this.statements = undefined;
    this.tallies.clear();
    this.total.rows = 0;
    this.total.bytes = 0;
  }

  private capPassed(target: string, bytes: number): HintDropReason | undefined {
    const { rowsMax = HINTS_MAX, bytesMax = HINT_BYTES_MAX, bytesPerTargetMax = HINT_BYTES_PER_TARGET_MAX } = this.options;
    if (this.total.rows + 1 > rowsMax) return "rows_cap";
    if (this.total.bytes + bytes > bytesMax || this.bytes(target) + bytes > bytesPerTargetMax) return "bytes_cap";
    return undefined;
  }

  private openAndTally(): Statements {
    const statements = open(this.path);
    for (const { target, rows, bytes } of statements.selectTallies.all()) this.account(target, rows, bytes);
    return statements;
  }

  private account(target: string, rows: number, bytes: number): void {
    const tally = this.tallies.get(target) ?? { rows: 0, bytes: 0 };
    tally.rows += rows;
    tally.bytes += bytes;
    this.total.rows += rows;
    this.total.bytes += bytes;
    if (tally.rows <= 0) this.tallies.delete(target);
    else this.tallies.set(target, tally);
  }

  private dropped(reason: HintDropReason, hints: number): void {
    if (hints <= 0) return;
    this.drops.set(reason, this.droppedCount(reason) + hints);
    this.options.onDrop?.(reason, hints);
  }
}
