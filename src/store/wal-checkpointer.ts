// Checkpoints of the sqlite store's write-ahead log, run on a worker thread instead of inside commits.
//
// SQLite's automatic checkpoint runs inside the commit that crosses 1,000 log pages. At 1M keys every
// put dirties pages all over the file, so it came round every few hundred puts and held the event loop
// for ~100 ms each time. Here the store turns it off and a worker thread with its own connection runs a
// passive checkpoint at most every CHECKPOINT_INTERVAL_MS while there are writes (none when idle).
// A passive checkpoint never waits for the writer, so under steady writes the log would never start
// over and would grow without bound: once a checkpoint reports more than RESTART_FRAMES, the store's
// commits wait until one more checkpoint has copied the whole log (writes pause for that one short
// checkpoint, reads are served throughout), and the commit after it starts the log from the beginning.
// The thread syncs the database file after each checkpoint that copied pages, so the one checkpoint the
// commits wait on has only its own few pages to sync: SQLite syncs the file only after a checkpoint of the
// whole log, and at 1M keys the pages the checkpoints before it had left all over the file made that sync,
// inside the wait, 35-90 ms (the writes' p99 was ~50 ms against ~6 ms in an empty cluster; /tmp/cpu/w1m.ts,
// wrk -c16 SET on 3 sqlite nodes at RF=3).
// Measured with 48 writers putting new keys into a 1M-key file, the log peaked at ~65 MB; the store
// truncates it back to JOURNAL_BYTES_LIMIT after each restart. The writes at 1M keys per node in
// `bun run bench scale` (bench/README.md) are where a longer wait would show, and /metrics counts
// the waits (limedb_store_commit_waits_total, limedb_store_commit_wait_seconds_total).
import { closeSync } from "node:fs";
import { resolve } from "node:path";
import type { SqliteSyncMode } from "../config/settings.ts";

/** Least time between two checkpoints started after writes, in ms. */
export const CHECKPOINT_INTERVAL_MS = 50;
/** Log length, in pages (4 KiB each: 32 MiB), past which commits wait for a checkpoint that lets the log start over. */
export const RESTART_FRAMES = 8192;
/** Longest a commit waits for that checkpoint, in ms: past it writes go on and the log keeps growing until the next try. */
export const RESTART_WAIT_MS_MAX = 2000;
/** Longest close() waits for the thread to close its connection, in ms. */
const CLOSE_WAIT_MS = 5000;

export type CheckpointRequest =
  | { readonly kind: "open"; readonly path: string; readonly busyTimeoutMs: number; readonly synchronous: "NORMAL" | "FULL" }
  | { readonly kind: "checkpoint" }
  | { readonly kind: "close" };

export type CheckpointReport =
  /** `fd`: the thread's descriptor of the database file, which the store closes after its own connection. */
  | { readonly kind: "opened"; readonly fd: number }
  | {
      readonly kind: "checkpointed";
      readonly busy: boolean;
      readonly logFrames: number;
      readonly doneFrames: number;
      readonly ms: number;
      /** The fdatasync of the database file after the copy, in ms; undefined when the checkpoint copied nothing. */
      readonly syncMs: number | undefined;
    }
  | { readonly kind: "closed" }
  | { readonly kind: "failed"; readonly message: string };

export interface WalCheckpointerOptions {
  readonly path: string;
  readonly sync: SqliteSyncMode;
  readonly busyTimeoutMs: number;
  readonly now?: () => number;
  /** The thread failed: the store goes back to SQLite's own checkpoints. Called at most once. */
  readonly onFailure: (message: string) => void;
  /** Told of each checkpoint the thread ran. */
  readonly onCheckpoint?: (report: Extract<CheckpointReport, { kind: "checkpointed" }>) => void;
}

interface Gate {
  readonly open: Promise<void>;
  readonly release: () => void;
  readonly since: number;
}

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly now: () => number;
  private inFlight = false;
  private dirty = false;
  private lastStartedAt = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private gate: Gate | undefined;
  private failed = false;
  private closing: ((report: CheckpointReport) => void) | undefined;
  /** The thread's descriptor of the database file, once it has opened it (see releaseFile). */
  private file: number | undefined;

  constructor(private readonly options: WalCheckpointerOptions) {
    this.now = options.now ?? (() => performance.now());
    // Not kept alive for its own sake (ref: false), and on a small heap (smol): it holds one connection.
    this.worker = new Worker(new URL("./wal-checkpoint-worker.ts", import.meta.url), { ref: false, smol: true });
    this.worker.onmessage = (event: MessageEvent<CheckpointReport>) => this.onReport(event.data);
    this.worker.onerror = (event) => this.fail(String(event.message));
    // Resolved now: the thread opens the file later, when the working directory may have changed.
    this.post({ kind: "open", path: resolve(options.path), busyTimeoutMs: options.busyTimeoutMs, synchronous: options.sync === "full" ? "FULL" : "NORMAL" });
  }

  /** Undefined when a commit may go ahead now; else a promise that resolves when it may. */
  beforeCommit(): Promise<void> | undefined {
    return this.gate?.open;
  }

  /** A transaction committed: its pages are in the log and a checkpoint is due soon. */
  afterCommit(): void {
    this.dirty = true;
    this.schedule();
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.releaseGate();
    if (!this.failed) {
      const closed = new Promise<CheckpointReport>((resolve) => {
        this.closing = resolve;
      });
      this.post({ kind: "close" });
      await Promise.race([closed, Bun.sleep(CLOSE_WAIT_MS)]);
    }
    this.failed = true;
    this.worker.terminate();
  }

  private schedule(): void {
    if (this.failed || this.inFlight || !this.dirty || this.timer !== undefined) return;
    const wait = this.lastStartedAt + CHECKPOINT_INTERVAL_MS - this.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
      return;
    }
    this.start();
  }

  /**
   * Closes the thread's descriptor of the database file. Only once the store's own connection is closed:
   * closing a descriptor of the file drops every POSIX lock this process holds on it, that connection's included.
   */
  releaseFile(): void {
    const file = this.file;
    this.file = undefined;
    if (file !== undefined) closeSync(file);
  }

  private start(): void {
    this.inFlight = true;
    this.dirty = false;
    this.lastStartedAt = this.now();
    this.post({ kind: "checkpoint" });
  }

  private onReport(report: CheckpointReport): void {
    if (report.kind === "failed") return this.fail(report.message);
    if (report.kind === "closed") return this.closing?.(report);
    if (report.kind === "opened") {
      this.file = report.fd;
      return;
    }
    if (report.kind !== "checkpointed") return;
    this.options.onCheckpoint?.(report);
    this.inFlight = false;
    const whole = !report.busy && report.doneFrames >= report.logFrames;
    if (this.gate !== undefined) {
      // Nothing was committed since the gate closed, so a whole copy means the next commit restarts the log.
      if (whole || this.now() - this.gate.since >= RESTART_WAIT_MS_MAX) this.releaseGate();
      else return this.start();
    } else if (report.logFrames >= RESTART_FRAMES && (!whole || this.dirty)) {
      this.gate = deferred(this.now());
      return this.start();
    }
    this.schedule();
  }

  private releaseGate(): void {
    const gate = this.gate;
    this.gate = undefined;
    gate?.release();
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.inFlight = false;
    this.releaseGate();
    this.closing?.({ kind: "failed", message });
    this.worker.terminate();
    this.options.onFailure(message);
  }

  private post(request: CheckpointRequest): void {
    this.worker.postMessage(request);
  }
}

function deferred(since: number): Gate {
  let release = () => {};
  const open = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { open, release, since };
}
