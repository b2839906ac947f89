// A Backend decorator that times every operation of the backend it wraps into NodeMetrics.
import type { RingRange } from "../ring/range.ts";
import type { Backend } from "../store/backend.ts";
import type { KeyEntry, KeyPage, PutOutcome, StoredRecord, Version } from "../store/record.ts";
import type { NodeMetrics } from "./node-metrics.ts";

export class TimedBackend implements Backend {
  readonly kind: Backend["kind"];
  readonly getSync?: (key: string) => StoredRecord | undefined;
  /** Each operation's recorder, bound on its first call (a fixed set of names, one per method). */
  private readonly recorders = new Map<string, (durationMs: number, failed: boolean) => void>();

  constructor(
    private readonly inner: Backend,
    private readonly metrics: NodeMetrics,
    /** Milliseconds, injected so tests can fix durations; main passes performance.now. */
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.kind = inner.kind;
    const getSync = inner.getSync;
    if (getSync !== undefined) {
      this.getSync = (key) => {
        const started = this.nowMs();
        try {
          const record = getSync(key);
          this.record("get", started, false);
          return record;
        } catch (error) {
          this.record("get", started, true);
          throw error;
        }
      };
    }
  }

  /** Plain promise callbacks rather than an async function: every store operation passes through here. */
  private timed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const started = this.nowMs();
    let result: Promise<T>;
    try {
      result = run();
    } catch (error) {
      this.record(operation, started, true);
      return Promise.reject(error);
    }
    return result.then(
      (value) => {
        this.record(operation, started, false);
        return value;
      },
      (error: unknown) => {
        this.record(operation, started, true);
        throw error;
      },
    );
  }

  private record(operation: string, started: number, failed: boolean): void {
    let recorder = this.recorders.get(operation);
    if (recorder === undefined) this.recorders.set(operation, (recorder = this.metrics.storeRecorder(this.kind, operation)));
    recorder(this.nowMs() - started, failed);
  }

  get(key: string): Promise<StoredRecord | undefined> {
    return this.timed("get", () => this.inner.get(key));
  }
  getMany(keys: readonly string[]): Promise<(StoredRecord | undefined)[]> {
    return this.timed("get_many", () => this.inner.getMany(keys));
  }
  put(record: StoredRecord): Promise<PutOutcome> {
    return this.timed("put", () => this.inner.put(record));
  }
  putMany(records: readonly StoredRecord[]): Promise<PutOutcome[]> {
    return this.timed("put_many", () => this.inner.putMany(records));
  }
  page(offset: number, limit: number, bytesMax: number): Promise<KeyPage> {
    return this.timed("page", () => this.inner.page(offset, limit, bytesMax));
  }
  keysAfter(afterKey: string, limit: number, bytesMax: number): Promise<KeyEntry[]> {
    return this.timed("keys_after", () => this.inner.keysAfter(afterKey, limit, bytesMax));
  }
  count(): Promise<number> {
    return this.timed("count", () => this.inner.count());
  }
  scan(afterKey: string | undefined, limit: number): Promise<StoredRecord[]> {
    return this.timed("scan", () => this.inner.scan(afterKey, limit));
  }
  scanRing(range: RingRange, afterKey: string | undefined, limit: number): Promise<StoredRecord[]> {
    return this.timed("scan_ring", () => this.inner.scanRing(range, afterKey, limit));
  }
  segmentDigests(): Promise<Uint32Array> {
    return this.inner.segmentDigests();
  }
  verifySegments(first: number, count: number): Promise<number> {
    return this.timed("verify_segments", () => this.inner.verifySegments(first, count));
  }
  discard(key: string, version: Version): Promise<boolean> {
    return this.timed("discard", () => this.inner.discard(key, version));
  }
  purge(beforeMs: number): Promise<number> {
    return this.timed("purge", () => this.inner.purge(beforeMs));
  }
  check(): Promise<void> {
    return this.inner.check();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
