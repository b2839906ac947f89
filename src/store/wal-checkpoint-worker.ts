// The WAL checkpointer's thread: its own connection to the store's file, running a passive checkpoint
// whenever the store asks, so copying the log into the database (and its fsync) never holds the
// event loop that serves requests.
import { Database } from "bun:sqlite";
import { closeSync, fdatasyncSync, openSync } from "node:fs";
import type { CheckpointReport, CheckpointRequest } from "./wal-checkpointer.ts";

declare const self: Worker;

let db: Database | undefined;
/**
 * The database file, read-only, for fdatasync alone: the pages a checkpoint copied are made durable here, on this
 * thread, right after it. SQLite syncs the file only at the end of a checkpoint that copied the whole log, and then
 * every page the checkpoints before it left in the page cache goes at once: at 1M keys those are pages all over
 * the file, and the sync that carried them fell inside the checkpoint the store's commits wait on (35-90 ms).
 */
let file: number | undefined;
/** Log frames the last checkpoint had copied: when a checkpoint copies none, there is nothing to sync. */
let copiedBefore = -1;

function answer(report: CheckpointReport): void {
  self.postMessage(report);
}

self.onmessage = (event: MessageEvent<CheckpointRequest>) => {
  const request = event.data;
  try {
    if (request.kind === "open") {
      db = new Database(request.path, { readwrite: true, create: false });
      file = openSync(request.path, "r");
      db.exec(`PRAGMA busy_timeout = ${request.busyTimeoutMs}`);
      db.exec(`PRAGMA synchronous = ${request.synchronous}`);
      answer({ kind: "opened" });
      return;
    }
    if (request.kind === "close") {
      db?.close();
      db = undefined;
      if (file !== undefined) closeSync(file);
      file = undefined;
      answer({ kind: "closed" });
      return;
    }
    if (db === undefined) throw new Error("checkpoint asked before open");
    const started = performance.now();
    const row = db.query("PRAGMA wal_checkpoint(PASSIVE)").get() as { busy: number; log: number; checkpointed: number };
    const copiedAt = performance.now();
    const copied = row.checkpointed !== copiedBefore;
    copiedBefore = row.checkpointed;
    if (copied && file !== undefined) fdatasyncSync(file);
    answer({ kind: "checkpointed", busy: row.busy === 1, logFrames: row.log, doneFrames: row.checkpointed, ms: copiedAt - started, syncMs: copied ? performance.now() - copiedAt : undefined });
  } catch (error) {
    answer({ kind: "failed", message: String(error) });
  }
};
