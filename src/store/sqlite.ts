// The sqlite backend (default): bun:sqlite in WAL mode, prepared statements, group-committed writes, reads of
// one event-loop turn in one read transaction.
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { SqliteSyncMode } from "../config/settings.ts";
import type { RingRange } from "../ring/range.ts";
import type { Backend, BackendOptions } from "./backend.ts";
import { StoreError } from "./errors.ts";
import { assertWithinLimits } from "./limits.ts";
import { takeWithinBytes } from "./page-bytes.ts";
import { decidePut, EXPIRED_VALUE_KEPT_MS_MIN, storedForm, type KeyEntry, type KeyPage, type PutOutcome, type StoredRecord, type Version } from "./record.ts";
import { fingerprintOf, ringPosition, SEGMENT_COUNT, SegmentDigests, segmentEnd, segmentOf, segmentStart } from "./segments.ts";
import { WalCheckpointer } from "./wal-checkpointer.ts";
import { TurnBatcher } from "./turn-batch.ts";

export interface SqliteOptions extends BackendOptions {
  readonly path: string;
  /** normal: every commit survives kill -9; full: every commit is fsynced and survives power loss. */
  readonly sync: SqliteSyncMode;
  /** Told how long, in ms, a commit waited for the write-ahead log to start over (see wal-checkpointer.ts). */
  readonly onCommitWait?: (ms: number) => void;
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

/**
 * Records are stored in ring order: keyed by (ring, key) WITHOUT ROWID, where `ring` is the key's
 * ring position (XXH64) as a signed integer with the top bit flipped, so SQLite's order is the ring's
 * unsigned order. A ring range is then a contiguous run of the table: rebalancing and anti-entropy read
 * it in order, a node receiving a range appends, and a range given up is deleted from adjacent pages.
 * A key is found by computing its ring position (one hash), so no lookup needs a second index
 * (NOT INDEXED keeps the planner on the table's own order); the `records_key` index serves only
 * listings in key order. (Cassandra orders its partitions by token for
 * the same reasons.) Measured at 1M keys: see "records in ring order" in bench/README.md's notes.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  ring INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  version_wall_ms INTEGER NOT NULL,
  version_counter INTEGER NOT NULL,
  version_node TEXT NOT NULL,
  tombstone INTEGER NOT NULL,
  expires_at_ms INTEGER,
  PRIMARY KEY (ring, key)
) WITHOUT ROWID`;

/**
 * Indexes: keys in key order for listings; expiring records and tombstones (partial, so a write
 * without TTL or a live value pays nothing for them), so purges cost what they purge.
 * `segment_state` holds the segment digests and live counts as of the last clean close: they are kept
 * in memory and changed with each committed transaction, saved by close() with clean = 1, and marked
 * unclean before the first write after opening. A file opened unclean (kill -9, power loss, a file
 * from before them) has them rebuilt from the records, one read of the table. Writing them in every
 * transaction measured 0.6× the put rate at 1M keys (bun bench/ring-scale.ts), hence this way.
 */
const DERIVED = `
CREATE INDEX IF NOT EXISTS records_key ON records (key);
CREATE INDEX IF NOT EXISTS records_expiry ON records (expires_at_ms) WHERE expires_at_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_tombstone_age ON records (version_wall_ms) WHERE tombstone = 1;
CREATE TABLE IF NOT EXISTS segment_state (id INTEGER PRIMARY KEY CHECK (id = 1), clean INTEGER NOT NULL, sums BLOB NOT NULL, live BLOB NOT NULL)`;

const COLUMNS = "key, value, version_wall_ms, version_counter, version_node, tombstone, expires_at_ms";
const LIVE = "tombstone = 0 AND (expires_at_ms IS NULL OR expires_at_ms > $now)";

/** How long a statement waits on a lock held by another connection (a second process, a backup). */
const BUSY_TIMEOUT_MS = 5000;
/** The write-ahead log is cut back to this size, in bytes, when it starts over (see wal-checkpointer.ts). */
const JOURNAL_BYTES_LIMIT = 64 * 1024 * 1024;
/** SQLite's own checkpoint interval, in log pages, used only if the checkpoint thread fails (SQLite's default). */
const INLINE_CHECKPOINT_PAGES = 1000;
/** SQLite's page cache for this connection, in KiB (negative in the pragma): keeps the table's and the key index's upper levels hot at 1M keys. */
const CACHE_KIB = 64 * 1024;
/** Rows a purge step deletes in one transaction before it yields to requests. */
export const PURGE_STEP_ROWS = 1000;
/** Rows the one-time migration of an older file reads per step. */
const MIGRATE_STEP_ROWS = 10_000;

const TOP_BIT = 1n << 63n;

/** A ring position (unsigned 64-bit) as the signed integer stored in `ring`: the same order. */
export function storedRing(position: bigint): bigint {
  return BigInt.asIntN(64, position ^ TOP_BIT);
}

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

type Params = Record<string, string | number | bigint | null>;

export class SqliteBackend implements Backend {
  readonly kind = "sqlite";
  private readonly db: Database;
  private readonly selectOne: Statement<Row, [{ $ring: bigint; $key: string }]>;
  private readonly upsert: Statement<unknown, [Params]>;
  private readonly selectPage: Statement<{ key: string; value: string }, [{ $now: number; $limit: number; $offset: number }]>;
  private readonly selectAfter: Statement<{ key: string; value: string }, [{ $after: string; $now: number; $limit: number }]>;
  private readonly selectScan: Statement<Row, [{ $after: string; $limit: number }]>;
  private readonly selectRing: Statement<Row, [Params]>;
  private readonly countExpired: Statement<{ n: number }, [{ $after: number; $now: number }]>;
  /**
   * Expired records (not tombstones) whose expiry is at or before `countedThroughMs`, kept with every change: an
   * expired record stays until TOMBSTONE_TTL_MS past its expiry, so counting them on each count() would cost
   * what is stored (100 ms for 500k); count() reads only those that expired since, by the expiry index.
   */
  private expiredCounted = 0;
  private countedThroughMs: number;
  private readonly selectSpan: Statement<unknown, [Params]>;
  private readonly batcher: TurnBatcher<StoredRecord | Discard, PutOutcome | boolean>;
  /**
   * Point reads of one turn share one read transaction. Each transaction takes and drops a read lock in the
   * log's shared-memory index with an fcntl() each: on the bench VM those two calls cost ~4 of a lone read's
   * ~5 µs (bun /tmp/micro/sqget.ts: 5.0 µs alone, 0.7 µs inside a transaction), paid once per turn this way.
   */
  private readonly reads: TurnBatcher<string, StoredRecord | undefined>;
  /** Keys read in one read transaction (one statement for a lone key): a turn's reads, or one caller's many. */
  private readonly readTogether: (keys: readonly string[]) => (StoredRecord | undefined)[];
  private readonly deleteExact: Statement<{ tombstone: number; expires_at_ms: number | null }, [Params]>;
  private readonly purgeTombstones: Statement<Row, [Params]>;
  private readonly purgeExpired: Statement<Row, [Params]>;
  private readonly blankExpired: Statement<unknown, [Params]>;
  /** The time up to which expired records had their values dropped: each purge drops those that expired since. */
  private blankedThroughMs = Number.MIN_SAFE_INTEGER;
  /** Digests and live counts per segment, mirrored from the `segments` table. */
  private readonly digests = new SegmentDigests();
  private readonly live = new Int32Array(this.digests.sums.length);
  private liveTotal = 0;
  /** Digests and counts as of the last commit; a failed transaction restores them. */
  private readonly committed = { sums: new Uint32Array(this.digests.sums.length), live: new Int32Array(this.digests.sums.length), liveTotal: 0, expiredCounted: 0, changed: new Set<number>() };
  /** Copies the write-ahead log into the file on a worker thread; undefined once it failed (SQLite's own checkpoints then). */
  private walCheckpointer: WalCheckpointer | undefined;
  /** The checkpoint thread, kept after a failure too (walCheckpointer is then undefined): its file descriptor is closed last. */
  private checkpointThread: WalCheckpointer | undefined;
  private closed = false;

  /** See BackendOptions.expiredValueKeptMs. */
  private readonly keptMs: number;

  constructor(private readonly options: SqliteOptions) {
    this.keptMs = Math.max(EXPIRED_VALUE_KEPT_MS_MIN, options.expiredValueKeptMs ?? 0);
    let db: Database | undefined;
    try {
      // dirname, not a regex: a bare file name (DATA_DIR=.) must not become a folder of that name.
      mkdirSync(dirname(options.path), { recursive: true });
      db = new Database(options.path, { create: true, strict: true });
      db.exec("PRAGMA journal_mode = WAL");
      db.exec(`PRAGMA synchronous = ${options.sync === "full" ? "FULL" : "NORMAL"}`);
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
      db.exec(`PRAGMA journal_size_limit = ${JOURNAL_BYTES_LIMIT}`);
      db.exec(SCHEMA);
      migrate(db);
      db.exec(DERIVED);
    } catch (error) {
      // A refused file is left as it was, and its handle is not kept open.
      db?.close();
      // Only a file SQLite rejects as a database is corrupt; anything else (permissions, disk) is an I/O failure.
      const corrupt = /not a database|malformed|corrupt/i.test(String(error));
      throw new StoreError(corrupt ? "corrupt" : "io", `cannot open SQLite store ${options.path}: ${String(error)}`, { cause: error });
    }
    this.db = db;
    this.selectOne = this.db.query(`SELECT ${COLUMNS} FROM records NOT INDEXED WHERE ring = $ring AND key = $key`);
    this.upsert = this.db.query(
      `INSERT INTO records (key, value, version_wall_ms, version_counter, version_node, tombstone, expires_at_ms, ring)
       VALUES ($key, $value, $wallMs, $counter, $node, $tombstone, $expiresAtMs, $ring)
       ON CONFLICT (ring, key) DO UPDATE SET value = excluded.value, version_wall_ms = excluded.version_wall_ms,
         version_counter = excluded.version_counter, version_node = excluded.version_node,
         tombstone = excluded.tombstone, expires_at_ms = excluded.expires_at_ms`,
    );
    this.selectPage = this.db.query(`SELECT key, value FROM records WHERE ${LIVE} ORDER BY key LIMIT $limit OFFSET $offset`);
    this.selectAfter = this.db.query(`SELECT key, value FROM records WHERE key > $after AND ${LIVE} ORDER BY key LIMIT $limit`);
    // Expired records too, as tombstones are (see decidePut): a replica that missed an expiring write learns it.
    this.selectScan = this.db.query(`SELECT ${COLUMNS} FROM records WHERE key > $after ORDER BY key LIMIT $limit`);
    this.selectRing = this.db.query(
      `SELECT ${COLUMNS} FROM records WHERE (ring, key) > ($ring, $after) AND ring >= $lo AND ring <= $hi ORDER BY ring, key LIMIT $limit`,
    );
    // The segment is the ring position's top 16 bits: SQLite's >> keeps the sign, and the flipped top bit is undone by + 32768.
    this.selectSpan = this.db.query(
      "SELECT key, version_wall_ms, version_counter, version_node, tombstone, (ring >> 48) + 32768 FROM records WHERE ring >= $lo AND ring <= $hi",
    );
    this.countExpired = this.db.query("SELECT COUNT(*) AS n FROM records WHERE expires_at_ms > $after AND expires_at_ms <= $now AND tombstone = 0");
    this.deleteExact = this.db.query(
      "DELETE FROM records NOT INDEXED WHERE ring = $ring AND key = $key AND version_wall_ms = $wallMs AND version_counter = $counter AND version_node = $node RETURNING tombstone, expires_at_ms",
    );
    this.purgeTombstones = this.db.query(
      `DELETE FROM records WHERE (ring, key) IN (SELECT ring, key FROM records WHERE tombstone = 1 AND version_wall_ms < $before LIMIT $limit) RETURNING ${COLUMNS}`,
    );
    this.purgeExpired = this.db.query(
      `DELETE FROM records WHERE (ring, key) IN (SELECT ring, key FROM records WHERE expires_at_ms < $before LIMIT $limit) RETURNING ${COLUMNS}`,
    );
    this.blankExpired = this.db.query(
      `UPDATE records SET value = '' WHERE (ring, key) IN
         (SELECT ring, key FROM records WHERE expires_at_ms > $since AND expires_at_ms <= $now AND value != '' LIMIT $limit)`,
    );
    this.loadSegments();
    // Once at open: the expired records there are (a recount, as after a crash, costs one read of the expiry index).
    this.countedThroughMs = options.clock();
    this.expiredCounted = this.committed.expiredCounted = this.countExpired.get({ $after: Number.MIN_SAFE_INTEGER, $now: this.countedThroughMs })?.n ?? 0;
    const commit = this.db.transaction((items: readonly (StoredRecord | Discard)[]) =>
      items.map((item) => ("discard" in item ? this.applyDiscard(item) : this.apply(item))),
    );
    const readEach = this.db.transaction((keys: readonly string[]) => this.readEach(keys));
    // A lone read needs no transaction of its own: the statement is one.
    this.readTogether = (keys) => this.guard(() => (keys.length === 1 ? this.readEach(keys) : readEach(keys)));
    this.reads = new TurnBatcher(this.readTogether);
    this.batcher = new TurnBatcher(async (records) => {
      const gate = this.walCheckpointer?.beforeCommit();
      if (gate !== undefined) {
        const waitStarted = performance.now();
        await gate;
        try {
          this.options.onCommitWait?.(performance.now() - waitStarted);
        } catch {
          // What the wait is told to is figures only: it never holds the commit back.
        }
      }
      const results = this.inTransaction(() => commit(records));
      this.walCheckpointer?.afterCommit();
      return results;
    });
    this.startCheckpointer();
  }

  async get(key: string): Promise<StoredRecord | undefined> {
    this.assertOpen();
    return this.reads.submit(key);
  }

  async getMany(keys: readonly string[]): Promise<(StoredRecord | undefined)[]> {
    this.assertOpen();
    return this.readTogether(keys);
  }

  async put(record: StoredRecord): Promise<PutOutcome> {
    this.assertOpen();
    assertWithinLimits(record, this.options.valueBytesMax);
    return (await this.batcher.submit(record)) as PutOutcome;
  }

  async putMany(records: readonly StoredRecord[]): Promise<PutOutcome[]> {
    this.assertOpen();
    for (const record of records) assertWithinLimits(record, this.options.valueBytesMax);
    return (await this.batcher.submitAll(records)) as PutOutcome[];
  }

  async page(offset: number, limit: number, bytesMax: number): Promise<KeyPage> {
    return this.guard(() => {
      const $now = this.options.clock();
      // Row by row, so the rows past the budget are never read out of the file.
      const entries = takeWithinBytes(this.selectPage.iterate({ $now, $limit: limit, $offset: offset }), limit, bytesMax);
      return { entries, total: this.liveCount($now) };
    });
  }

  async keysAfter(afterKey: string, limit: number, bytesMax: number): Promise<KeyEntry[]> {
    return this.guard(() => takeWithinBytes(this.selectAfter.iterate({ $after: afterKey, $now: this.options.clock(), $limit: limit }), limit, bytesMax));
  }

  async scan(afterKey: string | undefined, limit: number): Promise<StoredRecord[]> {
    return this.guard(() =>
      this.selectScan.all({ $after: afterKey ?? "", $limit: limit }).map(toRecord),
    );
  }

  async scanRing(range: RingRange, afterKey: string | undefined, limit: number): Promise<StoredRecord[]> {
    // Keys are never empty, so ("", lo) sorts before every record at lo.
    const $ring = storedRing(afterKey === undefined ? range.lo : ringPosition(afterKey));
    return this.guard(() =>
      this.selectRing
        .all({ $ring, $after: afterKey ?? "", $lo: storedRing(range.lo), $hi: storedRing(range.hi), $limit: limit })
        .map(toRecord),
    );
  }

  async segmentDigests(): Promise<Uint32Array> {
    this.assertOpen();
    return this.digests.sums;
  }

  async count(): Promise<number> {
    return this.guard(() => this.liveCount(this.options.clock()));
  }

  /** One index range read of the segments' span (expired records too, as the digests count them), row by row as arrays. */
  async verifySegments(first: number, count: number): Promise<number> {
    return this.guard(() => {
      const last = Math.min(SEGMENT_COUNT, first + count) - 1;
      const sums = new Uint32Array(last - first + 1);
      const live = new Int32Array(last - first + 1);
      for (const [key, wallMs, counter, node, tombstone, segment] of this.selectSpan.values({ $lo: storedRing(segmentStart(first)), $hi: storedRing(segmentEnd(last)) })) {
        const i = (segment as number) - first;
        sums[i] = (sums[i]! + fingerprintOf(key as string, wallMs as number, counter as number, node as string, tombstone === 1)) >>> 0;
        if (tombstone === 0) live[i]!++;
      }
      let wrong = 0;
      for (let i = 0; i <= last - first; i++) {
        const segment = first + i;
        if (this.digests.sums[segment] === sums[i] && this.live[segment] === live[i]) continue;
        this.liveTotal += live[i]! - this.live[segment]!;
        this.digests.sums[segment] = this.committed.sums[segment] = sums[i]!;
        this.live[segment] = this.committed.live[segment] = live[i]!;
        wrong++;
      }
      this.committed.liveTotal = this.liveTotal;
      return wrong;
    });
  }

  async discard(key: string, version: Version): Promise<boolean> {
    this.assertOpen();
    return (await this.batcher.submit({ discard: key, version })) as boolean;
  }

  /**
   * By the tombstone and expiry indexes, a step of PURGE_STEP_ROWS at a time: costs what it purges. Tombstones and
   * records whose expiry is older than `beforeMs` go; records that expired since the last purge lose their values and
   * stay, as the deletes they are, until then (their fingerprints do not hold values, so the digests are unchanged).
   */
  async purge(beforeMs: number): Promise<number> {
    let purged = 0;
    for (const [statement, params] of [
      [this.purgeTombstones, { $before: beforeMs }],
      [this.purgeExpired, { $before: beforeMs }],
    ] as const) {
      for (;;) {
        const rows = this.inTransaction(() =>
          this.db.transaction(() => {
            const deleted = statement.all({ ...params, $limit: PURGE_STEP_ROWS });
            for (const row of deleted) this.account(toRecord(row), undefined);
            return deleted.length;
          })(),
        );
        this.walCheckpointer?.afterCommit();
        purged += rows;
        if (rows < PURGE_STEP_ROWS) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    // The values of records that expired keptMs ago, since the last purge (a record that arrives expired that long is
    // stored without its value). The watermarks never go back: a clock stepped back waits until it passes them again.
    const now = this.options.clock();
    const blankThrough = now - this.keptMs;
    while (blankThrough > this.blankedThroughMs) {
      const rows = this.inTransaction(() => this.blankExpired.run({ $since: this.blankedThroughMs, $now: blankThrough, $limit: PURGE_STEP_ROWS }).changes);
      this.walCheckpointer?.afterCommit();
      if (rows < PURGE_STEP_ROWS) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.blankedThroughMs = Math.max(this.blankedThroughMs, blankThrough);
    // The records that expired since count from now on among expiredCounted, so count() reads none of them again.
    if (now > this.countedThroughMs) {
      this.guard(() => {
        this.expiredCounted += this.countExpired.get({ $after: this.countedThroughMs, $now: now })?.n ?? 0;
        this.countedThroughMs = now;
        this.committed.expiredCounted = this.expiredCounted;
      });
    }
    return purged;
  }

  async check(): Promise<void> {
    this.guard(() => this.db.query("SELECT 1").get());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([this.batcher.drain(), this.reads.drain()]);
    this.closed = true;
    try {
      this.saveSegments();
    } finally {
      // The thread's connection closes first, so this one is the last and its close copies and removes the log.
      await this.walCheckpointer?.close();
      this.db.close();
      // Then the thread's descriptor of the file, which would drop this connection's locks had it gone first.
      this.checkpointThread?.releaseFile();
    }
  }

  /** Commits stop running SQLite's checkpoint inline; a thread runs it (see wal-checkpointer.ts). */
  private startCheckpointer(): void {
    const inline = () => {
      this.walCheckpointer = undefined;
      if (!this.closed) this.db.exec(`PRAGMA wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
    };
    try {
      this.walCheckpointer = new WalCheckpointer({ path: this.options.path, sync: this.options.sync, busyTimeoutMs: BUSY_TIMEOUT_MS, onFailure: inline });
      this.checkpointThread = this.walCheckpointer;
      this.db.exec("PRAGMA wal_autocheckpoint = 0");
    } catch {
      inline();
    }
  }

  /** Live keys: the maintained count less records that expired since and are not purged yet (by the expiry index). */
  private liveCount(now: number): number {
    return this.liveTotal - this.expiredCounted - (now <= this.countedThroughMs ? 0 : (this.countExpired.get({ $after: this.countedThroughMs, $now: now })?.n ?? 0));
  }

  /** Each key's record, expired ones too (as tombstones, see decidePut): the reads of one turn. */
  private readEach(keys: readonly string[]): (StoredRecord | undefined)[] {
    return keys.map((key) => {
      const row = this.selectOne.get({ $ring: storedRing(ringPosition(key)), $key: key });
      return row === null ? undefined : toRecord(row);
    });
  }

  /** Runs inside the batch transaction: read, decide, write, with nothing in between. */
  private applyDiscard({ discard, version }: Discard): boolean {
    const row = this.deleteExact.get({ $ring: storedRing(ringPosition(discard)), $key: discard, $wallMs: version.wallMs, $counter: version.counter, $node: version.node });
    if (row === null) return false;
    this.account({ key: discard, value: "", version, tombstone: row.tombstone === 1, expiresAtMs: row.expires_at_ms ?? undefined }, undefined);
    return true;
  }

  private apply(incoming: StoredRecord): PutOutcome {
    const $ring = storedRing(ringPosition(incoming.key));
    const existingRow = this.selectOne.get({ $ring, $key: incoming.key });
    const existing = existingRow === null ? undefined : toRecord(existingRow);
    const now = this.options.clock();
    const outcome = decidePut(existing, incoming, now);
    if (outcome.applied) {
      const record = storedForm(incoming, now, this.keptMs);
      this.upsert.run({
        $key: record.key,
        $value: record.value,
        $wallMs: record.version.wallMs,
        $counter: record.version.counter,
        $node: record.version.node,
        $tombstone: record.tombstone ? 1 : 0,
        $expiresAtMs: record.expiresAtMs ?? null,
        $ring,
      });
      this.account(existing, record);
    }
    return outcome;
  }

  /** One key's change in the segment figures: `before` left the store, `after` entered it. */
  private account(before: StoredRecord | undefined, after: StoredRecord | undefined): void {
    const key = (before ?? after)!.key;
    const segment = segmentOf(key);
    this.digests.replace(before, after);
    const delta = (after !== undefined && !after.tombstone ? 1 : 0) - (before !== undefined && !before.tombstone ? 1 : 0);
    this.expiredCounted += (this.countedExpired(after) ? 1 : 0) - (this.countedExpired(before) ? 1 : 0);
    this.live[segment]! += delta;
    this.liveTotal += delta;
    this.committed.changed.add(segment);
  }

  /** Whether the record is among expiredCounted: an expired one (not a tombstone) that expired by countedThroughMs. */
  private countedExpired(record: StoredRecord | undefined): boolean {
    return record !== undefined && !record.tombstone && record.expiresAtMs !== undefined && record.expiresAtMs <= this.countedThroughMs;
  }

  /** On a clean close: the figures, and that they match the records. */
  private saveSegments(): void {
    this.db
      .query("INSERT OR REPLACE INTO segment_state (id, clean, sums, live) VALUES (1, 1, $sums, $live)")
      .run({ $sums: new Uint8Array(this.digests.sums.buffer), $live: new Uint8Array(this.live.buffer) } as unknown as Params);
  }

  /**
   * The segment figures saved by the last clean close, or rebuilt from the records when there are
   * none (a crash, an older file). Either way the file is marked unclean until the next close.
   */
  private loadSegments(): void {
    this.guard(() => {
      const saved = this.db.query("SELECT clean, sums, live FROM segment_state WHERE id = 1").get() as { clean: number; sums: Uint8Array; live: Uint8Array } | null;
      const size = this.digests.sums.byteLength;
      if (saved !== null && saved.clean === 1 && saved.sums.byteLength === size && saved.live.byteLength === size) {
        this.digests.sums.set(new Uint32Array(saved.sums.buffer.slice(saved.sums.byteOffset, saved.sums.byteOffset + size)));
        this.live.set(new Int32Array(saved.live.buffer.slice(saved.live.byteOffset, saved.live.byteOffset + size)));
        this.liveTotal = this.live.reduce((sum, n) => sum + n, 0);
      } else {
        this.digests.sums.fill(0);
        this.live.fill(0);
        this.liveTotal = 0;
        for (const row of this.db.query(`SELECT ${COLUMNS} FROM records`).iterate() as Iterable<Row>) this.account(undefined, toRecord(row));
      }
      this.db.query("INSERT OR REPLACE INTO segment_state (id, clean, sums, live) VALUES (1, 0, x'', x'')").run();
      this.committed.sums.set(this.digests.sums);
      this.committed.live.set(this.live);
      this.committed.liveTotal = this.liveTotal;
      this.committed.changed.clear();
    });
  }

  /** What a failed transaction goes back to. */
  private checkpoint(): void {
    const { committed } = this;
    for (const segment of committed.changed) {
      committed.sums[segment] = this.digests.sums[segment]!;
      committed.live[segment] = this.live[segment]!;
    }
    committed.liveTotal = this.liveTotal;
    committed.expiredCounted = this.expiredCounted;
    committed.changed.clear();
  }

  /** A transaction that fails leaves the table as it was, and the figures in memory go back with it. */
  private inTransaction<T>(work: () => T): T {
    try {
      const result = this.guard(work);
      this.checkpoint();
      return result;
    } catch (error) {
      const { committed } = this;
      for (const segment of committed.changed) {
        this.digests.sums[segment] = committed.sums[segment]!;
        this.live[segment] = committed.live[segment]!;
      }
      this.liveTotal = committed.liveTotal;
      this.expiredCounted = committed.expiredCounted;
      committed.changed.clear();
      throw error;
    }
  }

  private guard<T>(work: () => T): T {
    this.assertOpen();
    try {
      return work();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError("io", `SQLite store ${this.options.path} failed: ${String(error)}`, { cause: error });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("closed", `the SQLite store ${this.options.path} is closed`);
  }
}

/**
 * Older files are brought to the current layout on open, each step in one transaction, so kill -9
 * during one leaves the file as it was and the next start does it again: a file from before ring
 * positions first gets its `ring` column filled; a file keyed by key alone is then rewritten in ring
 * order (about 10 s per million records on the bench machine, once).
 */
function migrate(db: Database): void {
  const columns = db.query("SELECT name, pk FROM pragma_table_info('records')").all() as { name: string; pk: number }[];
  if (columns.find((column) => column.name === "ring")?.pk === 1) return;
  if (!columns.some((column) => column.name === "ring")) addRingColumn(db);
  db.transaction(() => {
    db.exec("ALTER TABLE records RENAME TO records_by_key");
    db.exec(SCHEMA);
    db.exec(`INSERT INTO records (ring, ${COLUMNS}) SELECT ring, ${COLUMNS} FROM records_by_key ORDER BY ring, key`);
    // Its indexes go with it; DERIVED builds them on the new table.
    db.exec("DROP TABLE records_by_key");
  })();
}

/** The first step for a file from before ring positions. */
function addRingColumn(db: Database): void {
  db.transaction(() => {
    db.exec("ALTER TABLE records ADD COLUMN ring INTEGER");
    const next = db.query("SELECT key FROM records WHERE key > $after ORDER BY key LIMIT $limit");
    const set = db.query("UPDATE records SET ring = $ring WHERE key = $key");
    for (let after = ""; ; ) {
      const keys = next.all({ $after: after, $limit: MIGRATE_STEP_ROWS }) as { key: string }[];
      for (const { key } of keys) set.run({ $ring: storedRing(ringPosition(key)), $key: key });
      if (keys.length < MIGRATE_STEP_ROWS) break;
      after = keys.at(-1)!.key;
    }
  })();
}
