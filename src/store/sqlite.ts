// The sqlite backend (default): bun:sqlite in WAL mode, prepared statements, group-committed writes.
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { SqliteSyncMode } from "../config/settings.ts";
import type { Backend, BackendOptions } from "./backend.ts";
import { StoreError } from "./errors.ts";
import { assertWithinLimits } from "./limits.ts";
import { takeWithinBytes } from "./page-bytes.ts";
import { decidePut, type KeyPage, type PutOutcome, type StoredRecord, type Version } from "./record.ts";
import { WriteBatcher } from "./write-batch.ts";

export interface SqliteOptions extends BackendOptions {
  readonly path: string;
  /** normal: every commit survives kill -9; full: every commit is fsynced and survives power loss. */
  readonly sync: SqliteSyncMode;
}

interface Row {
  key: string;
  value: string;
  version_wall_ms: number;
  version_counter: number;
  version_node: string;
  tombstone: number;
  expires_at_ms: number | null;
}

/** Keyed by the key itself (WITHOUT ROWID): one B-tree per write instead of a table plus a key index. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL,
  version_wall_ms INTEGER NOT NULL,
  version_counter INTEGER NOT NULL,
  version_node TEXT NOT NULL,
  tombstone INTEGER NOT NULL,
  expires_at_ms INTEGER
) WITHOUT ROWID`;

const LIVE = "tombstone = 0 AND (expires_at_ms IS NULL OR expires_at_ms > $now)";

/** How long a statement waits on a lock held by another connection (a second process, a backup). */
const BUSY_TIMEOUT_MS = 5000;

/** A discard travels through the same batcher as puts, so it is ordered with them. */
interface Discard {
  readonly discard: string;
  readonly version: Version;
}

function toRecord(row: Row): StoredRecord {
  return {
    key: row.key,
    value: row.value,
    version: { wallMs: row.version_wall_ms, counter: row.version_counter, node: row.version_node },
    tombstone: row.tombstone === 1,
    expiresAtMs: row.expires_at_ms ?? undefined,
  };
}

export class SqliteBackend implements Backend {
  readonly kind = "sqlite";
  private readonly db: Database;
  private readonly selectOne: Statement<Row, [{ $key: string }]>;
  private readonly upsert: Statement<unknown, [Record<string, string | number | null>]>;
  private readonly selectPage: Statement<{ key: string; value: string }, [{ $now: number; $limit: number; $offset: number }]>;
  private readonly selectScan: Statement<Row, [{ $after: string; $now: number; $limit: number }]>;
  private readonly countLive: Statement<{ n: number }, [{ $now: number }]>;
  private readonly batcher: WriteBatcher<StoredRecord | Discard, PutOutcome | boolean>;
  private readonly deleteExact: Statement<unknown, [{ $key: string; $wallMs: number; $counter: number; $node: string }]>;
  private closed = false;

  constructor(private readonly options: SqliteOptions) {
    let db: Database | undefined;
    try {
      // dirname, not a regex: a bare file name (DATA_DIR=.) must not become a folder of that name.
      mkdirSync(dirname(options.path), { recursive: true });
      db = new Database(options.path, { create: true, strict: true });
      db.exec("PRAGMA journal_mode = WAL");
      db.exec(`PRAGMA synchronous = ${options.sync === "full" ? "FULL" : "NORMAL"}`);
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.exec(SCHEMA);
    } catch (error) {
      // A refused file is left as it was, and its handle is not kept open.
      db?.close();
      // Only a file SQLite rejects as a database is corrupt; anything else (permissions, disk) is an I/O failure.
      const corrupt = /not a database|malformed|corrupt/i.test(String(error));
      throw new StoreError(corrupt ? "corrupt" : "io", `cannot open SQLite store ${options.path}: ${String(error)}`, { cause: error });
    }
    this.db = db;
    this.selectOne = this.db.query("SELECT * FROM records WHERE key = $key");
    this.upsert = this.db.query(
      `INSERT OR REPLACE INTO records (key, value, version_wall_ms, version_counter, version_node, tombstone, expires_at_ms)
       VALUES ($key, $value, $wallMs, $counter, $node, $tombstone, $expiresAtMs)`,
    );
    this.selectPage = this.db.query(`SELECT key, value FROM records WHERE ${LIVE} ORDER BY key LIMIT $limit OFFSET $offset`);
    this.selectScan = this.db.query(
      "SELECT * FROM records WHERE key > $after AND (expires_at_ms IS NULL OR expires_at_ms > $now) ORDER BY key LIMIT $limit",
    );
    this.countLive = this.db.query(`SELECT COUNT(*) AS n FROM records WHERE ${LIVE}`);
    this.deleteExact = this.db.query(
      "DELETE FROM records WHERE key = $key AND version_wall_ms = $wallMs AND version_counter = $counter AND version_node = $node",
    );
    const commit = this.db.transaction((items: readonly (StoredRecord | Discard)[]) =>
      items.map((item) => ("discard" in item ? this.applyDiscard(item) : this.apply(item))),
    );
    this.batcher = new WriteBatcher((records) => this.guard(() => commit(records)));
  }

  async get(key: string): Promise<StoredRecord | undefined> {
    const row = this.guard(() => this.selectOne.get({ $key: key }));
    if (row === null) return undefined;
    const record = toRecord(row);
    return record.expiresAtMs !== undefined && record.expiresAtMs <= this.options.clock() ? undefined : record;
  }

  async put(record: StoredRecord): Promise<PutOutcome> {
    this.assertOpen();
    assertWithinLimits(record, this.options.valueBytesMax);
    return (await this.batcher.submit(record)) as PutOutcome;
  }

  async page(offset: number, limit: number, bytesMax: number): Promise<KeyPage> {
    return this.guard(() => {
      const $now = this.options.clock();
      // Row by row, so the rows past the budget are never read out of the file.
      const entries = takeWithinBytes(this.selectPage.iterate({ $now, $limit: limit, $offset: offset }), limit, bytesMax);
      return { entries, total: this.countLive.get({ $now })?.n ?? 0 };
    });
  }

  async scan(afterKey: string | undefined, limit: number): Promise<StoredRecord[]> {
    return this.guard(() =>
      this.selectScan.all({ $after: afterKey ?? "", $now: this.options.clock(), $limit: limit }).map(toRecord),
    );
  }

  async count(): Promise<number> {
    return this.guard(() => this.countLive.get({ $now: this.options.clock() })?.n ?? 0);
  }

  async discard(key: string, version: Version): Promise<boolean> {
    this.assertOpen();
    return (await this.batcher.submit({ discard: key, version })) as boolean;
  }

  async purge(beforeMs: number): Promise<number> {
    return this.guard(
      () =>
        this.db
          .query("DELETE FROM records WHERE (tombstone = 1 AND version_wall_ms < $before) OR expires_at_ms <= $now")
          .run({ $before: beforeMs, $now: this.options.clock() }).changes,
    );
  }

  async check(): Promise<void> {
    this.guard(() => this.db.query("SELECT 1").get());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.batcher.drain();
    this.closed = true;
    this.db.close();
  }

  /** Runs inside the batch transaction: read, decide, write, with nothing in between. */
  private applyDiscard({ discard, version }: Discard): boolean {
    return this.deleteExact.run({ $key: discard, $wallMs: version.wallMs, $counter: version.counter, $node: version.node }).changes > 0;
  }

  private apply(record: StoredRecord): PutOutcome {
    const existingRow = this.selectOne.get({ $key: record.key });
    const outcome = decidePut(existingRow === null ? undefined : toRecord(existingRow), record, this.options.clock());
    if (outcome.applied) {
      this.upsert.run({
        $key: record.key,
        $value: record.value,
        $wallMs: record.version.wallMs,
        $counter: record.version.counter,
        $node: record.version.node,
        $tombstone: record.tombstone ? 1 : 0,
        $expiresAtMs: record.expiresAtMs ?? null,
      });
    }
    return outcome;
  }

  private guard<T>(work: () => T): T {
    this.assertOpen();
    try {
      return work();
    } catch (error) {
      throw new StoreError("io", `SQLite store ${this.options.path} failed: ${String(error)}`, { cause: error });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("closed", `the SQLite store ${this.options.path} is closed`);
  }
}
