// The WAL checkpointer's thread: its own connection to the store's file, running a passive checkpoint
// whenever the store asks, so copying the log into the database (and its fsync) never holds the
// event loop that serves requests.
import { Database } from "bun:sqlite";
import { fdatasyncSync, openSync } from "node:fs";
import type { CheckpointReport, CheckpointRequest } from "./wal-checkpointer.ts";

declare const self: Worker;

let db: Database | undefined;
/**
 * The database file, read-only, for fdatasync alone: the pages a checkpoint copied are made durable here, on this
 * thread, right after it. SQLite syncs the file only at the end of a checkpoint that copied the whole log, and then
 * every page the checkpoints before it left in the page cache goes at once: at 1M keys those are pages all over
 * the file, and the sync that carried them fell inside the checkpoint the store's commits wait on (35-90 ms).
 * Never closed here: closing any descriptor of the file drops every POSIX lock this process holds on it, the
 * store's own connection's included, so the store closes it after its connection (WalCheckpointer.releaseFile).
 */
let file: number | undefined;
/** The log's length and the frames copied, as the last checkpoint left them: when neither moved, it copied nothing to sync. */
let before = { log: -1, copied: -1 };

function answer(report: CheckpointReport): void {
  self.postMessage(report);
}

self.onmessage = (event: MessageEvent<CheckpointRequest>) => {
  const request = event.data;
  try {
    if (request.kind === "open") {
      db = new Database(request.path, { readwrite: true, create: false });
      db.exec(`PRAGMA busy_timeout = ${request.busyTimeoutMs}`);
      db.exec(`PRAGMA synchronous = ${request.synchronous}`);
      // Last, so nothing can fail between opening it and handing it over.
      file = openSync(request.path, "r");
      answer({ kind: "opened", fd: file });
      return;
    }
    if (request.kind === "close") {
      db?.close();
      db = undefined;
      file = undefined;
      answer({ kind: "closed" });
      return;
    }
    if (db === undefined) throw new Error("checkpoint asked before open");
    const started = performance.now();
    const row = db.query("PRAGMA wal_checkpoint(PASSIVE)").get() as { busy: number; log: number; checkpointed: number };
    const copiedAt = performance.now();
    const copied = row.checkpointed !== before.copied || row.log !== before.log;
    before = { log: row.log, copied: row.checkpointed };
    // The checkpoints the commits wait on too: the first of them often runs beside a commit still going, copies
    // less than the whole log and so is not synced by SQLite (syncing them all: waits 0.08 s in all over 10 s of
    // writes at 1M keys, against 0.12-0.13 s when they were left out; /tmp/cpu/w1m.ts).
    const synced = copied && file !== undefined;
    if (synced) fdatasyncSync(file!);
    answer({ kind: "checkpointed", busy: row.busy === 1, logFrames: row.log, doneFrames: row.checkpointed, ms: copiedAt - started, syncMs: synced ? performance.now() - copiedAt : undefined });
  } catch (error) {
    answer({ kind: "failed", message: String(error) });
  }
};
