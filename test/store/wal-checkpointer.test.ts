// The sqlite store's log checkpoints on a worker thread: the log starts over under steady writes, the
// thread's connection closes before the store's, and a thread that cannot open the file gives way to
// SQLite's own checkpoints.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { SqliteBackend } from "../../src/store/sqlite.ts";
import { RESTART_FRAMES, RESTART_WAIT_MS_MAX, WalCheckpointer } from "../../src/store/wal-checkpointer.ts";
import { tempDir } from "../support/temp-dir.ts";
import { waitUntil } from "../support/cluster.ts";
import { live, version } from "./conformance.ts";

const PAGE_BYTES = 4096;
/** Values of 8 KiB: each put adds a few pages to the log. */
const VALUE = "v".repeat(8 * 1024);
/** Puts in flight at once, as a node under load has them. */
const IN_FLIGHT = 64;
/** What the test writes without a pause: five times the log length at which it must start over. */
const WRITTEN_BYTES = 5 * RESTART_FRAMES * PAGE_BYTES;

function walBytes(path: string): number {
  return existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
}

describe("WAL checkpoints on a thread", () => {
  test("under writes with no pause the log starts over instead of growing with what is written", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "store.sqlite");
    const store = new SqliteBackend({ path, sync: "normal", valueBytesMax: 1024 * 1024, clock: Date.now });
    let largest = 0;
    try {
      const puts = Math.ceil(WRITTEN_BYTES / VALUE.length);
      for (let sent = 0; sent < puts; sent += IN_FLIGHT) {
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, (_, i) => store.put(live(`key-${(sent + i) * 7919 % puts}`, VALUE, version(sent + i + 1)))),
        );
        largest = Math.max(largest, walBytes(path));
      }
    } finally {
      await store.close();
    }
    // Without the restart the log would hold everything written (the file never shrinks between restarts).
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(WRITTEN_BYTES / 2);
  });

  test("a commit held while the log cannot start over is told, with how long it waited", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "store.sqlite");
    const waits: number[] = [];
    const store = new SqliteBackend({ path, sync: "normal", valueBytesMax: 1024 * 1024, clock: Date.now, onCommitWait: (ms) => waits.push(ms) });
    // A reader holding its snapshot keeps every checkpoint from copying the whole log: it grows past RESTART_FRAMES
    // and the commits wait, up to RESTART_WAIT_MS_MAX, for a restart that cannot come while the reader stays.
    const reader = new Database(path);
    reader.exec("BEGIN");
    reader.query("SELECT COUNT(*) FROM records").get();
    try {
      const puts = Math.ceil((2 * RESTART_FRAMES * PAGE_BYTES) / VALUE.length);
      for (let sent = 0; sent < puts && waits.length === 0; sent += IN_FLIGHT) {
        await Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => store.put(live(`key-${sent + i}`, VALUE, version(sent + i + 1)))));
      }
      // Every put was taken after the wait ended: the gate gives way once RESTART_WAIT_MS_MAX has passed.
      expect(waits.length).toBeGreaterThan(0);
      expect(Math.max(...waits)).toBeGreaterThan(RESTART_WAIT_MS_MAX / 2);
    } finally {
      reader.exec("COMMIT");
      reader.close();
      await store.close();
    }
  });

  test("closing the store closes the thread's connection too, so the last close copies and removes the log", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "store.sqlite");
    const store = new SqliteBackend({ path, sync: "normal", valueBytesMax: 1024 * 1024, clock: Date.now });
    for (let i = 0; i < 200; i++) await store.put(live(`key-${i}`, VALUE, version(i + 1)));
    // Let at least one checkpoint run, so the thread's connection is open when the store closes.
    await Bun.sleep(300);
    expect(walBytes(path)).toBeGreaterThan(0);
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = new SqliteBackend({ path, sync: "normal", valueBytesMax: 1024 * 1024, clock: Date.now });
    try {
      expect(await reopened.count()).toBe(200);
    } finally {
      await reopened.close();
    }
  });

  test("a thread that cannot open the file reports it once, holds no commit, and closes at once", async () => {
    await using dir = await tempDir();
    const failures: string[] = [];
    const checkpointer = new WalCheckpointer({ path: join(dir.path, "missing", "store.sqlite"), sync: "normal", busyTimeoutMs: 100, onFailure: (message) => failures.push(message) });
    checkpointer.afterCommit();
    await waitUntil("the thread reports it cannot open the file", async () => failures.length, (n) => n > 0, 5000);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain("unable to open");
    expect(checkpointer.beforeCommit()).toBeUndefined();
    const started = performance.now();
    await checkpointer.close();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("WAL checkpoints make what they copied durable", () => {
  test("each checkpoint that copied pages syncs the database file after it; one that copied none does not", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "store.sqlite");
    const db = new Database(path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA wal_autocheckpoint = 0");
    db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
    const reports: { doneFrames: number; syncMs: number | undefined }[] = [];
    const checkpointer = new WalCheckpointer({ path, sync: "normal", busyTimeoutMs: 1000, onFailure: () => {}, onCheckpoint: (report) => reports.push(report) });
    try {
      const insert = db.query("INSERT INTO t (k, v) VALUES (?, ?)");
      db.transaction(() => {
        for (let k = 0; k < 100; k++) insert.run(k, VALUE);
      })();
      checkpointer.afterCommit();
      await waitUntil("a checkpoint after the writes", async () => reports.length, (n) => n >= 1, 5000);
      expect(reports[0]!.doneFrames).toBeGreaterThan(0);
      expect(reports[0]!.syncMs).toBeGreaterThanOrEqual(0);
      // Nothing written since: the next checkpoint copies nothing and has nothing to sync.
      checkpointer.afterCommit();
      await waitUntil("a second checkpoint", async () => reports.length, (n) => n >= 2, 5000);
      expect(reports[1]!.doneFrames).toBe(reports[0]!.doneFrames);
      expect(reports[1]!.syncMs).toBeUndefined();
    } finally {
      await checkpointer.close();
      db.close();
    }
  });
});
