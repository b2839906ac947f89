// The WAL checkpointer's thread: its own connection to the store's file, running a passive checkpoint
// whenever the store asks, so copying the log into the database (and its fsync) never holds the
// event loop that serves requests.
import { Database } from "bun:sqlite";
import type { CheckpointReport, CheckpointRequest } from "./wal-checkpointer.ts";

declare const self: Worker;

let db: Database | undefined;

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
      answer({ kind: "opened" });
      return;
    }
    if (request.kind === "close") {
      db?.close();
      db = undefined;
      answer({ kind: "closed" });
      return;
    }
    if (db === undefined) throw new Error("checkpoint asked before open");
    const started = performance.now();
    const row = db.query("PRAGMA wal_checkpoint(PASSIVE)").get() as { busy: number; log: number; checkpointed: number };
    answer({ kind: "checkpointed", busy: row.busy === 1, logFrames: row.log, doneFrames: row.checkpointed, ms: performance.now() - started });
  } catch (error) {
    answer({ kind: "failed", message: String(error) });
  }
};
