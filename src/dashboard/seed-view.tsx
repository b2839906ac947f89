// The seed-data generator: writes 1–1000 fake but realistic records through one node, with a progress bar.
/** @jsxImportSource preact */
import { useRef, useState } from "preact/hooks";
import { clientFor, describeError, type NodeRef } from "./nodes.ts";
import { formatCount, formatMs, shortUrl } from "./format.ts";
// Types only: the generator and faker come in a chunk of their own, loaded when seeding starts.
import type { SeedRecord } from "./seed-data.ts";
import { SEED_COUNT_MAX, SEED_COUNT_MIN } from "./seed-limits.ts";

/** Writes in flight at once: enough to be quick, few enough not to flood a small node. */
const SEED_CONCURRENCY = 8;
/** Distinct error messages listed; the rest are counted. */
const ERRORS_SHOWN_MAX = 5;

interface Progress {
  readonly total: number;
  readonly written: number;
  readonly failed: number;
  readonly running: boolean;
  readonly startedMs: number;
  readonly endedMs?: number;
  readonly errors: ReadonlyMap<string, number>;
  readonly sample: readonly string[];
}

export function SeedView({ target, note, onDone }: { target: NodeRef; note?: string; onDone: () => void }) {
  const [count, setCount] = useState("50");
  const [progress, setProgress] = useState<Progress>();
  const [problem, setProblem] = useState<string>();
  const stop = useRef(false);

  const start = async (event: Event) => {
    event.preventDefault();
    const n = Number(count);
    if (!Number.isInteger(n) || n < SEED_COUNT_MIN || n > SEED_COUNT_MAX) {
      setProblem(`Count must be a whole number from ${SEED_COUNT_MIN} to ${SEED_COUNT_MAX}.`);
      return;
    }
    setProblem(undefined);
    stop.current = false;
    let records: SeedRecord[];
    try {
      const { seedRecords } = await import("./seed-data.ts");
      records = seedRecords(n, crypto.getRandomValues(new Uint32Array(1))[0] ?? 1);
    } catch (error) {
      setProblem(`The generator failed to load: ${describeError(error)}`);
      return;
    }
    const client = clientFor(target);
    const errors = new Map<string, number>();
    let written = 0;
    let failed = 0;
    const startedMs = performance.now();
    const sample = records.slice(0, 3).map((r) => r.key);
    const report = (running: boolean) =>
      setProgress({ total: records.length, written, failed, running, startedMs, errors: new Map(errors), sample, ...(running ? {} : { endedMs: performance.now() }) });
    report(true);
    let next = 0;
    const worker = async () => {
      while (!stop.current && next < records.length) {
        const record = records[next++];
        if (record === undefined) break;
        try {
          await client.set(record.key, record.value);
          written++;
        } catch (error) {
          failed++;
          const message = describeError(error);
          errors.set(message, (errors.get(message) ?? 0) + 1);
        }
        report(true);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SEED_CONCURRENCY, records.length) }, worker));
    report(false);
    onDone();
  };

  const running = progress?.running === true;
  const done = progress === undefined ? 0 : progress.written + progress.failed;
  const percent = progress === undefined ? 0 : Math.round((done / progress.total) * 100);
  const errors = [...(progress?.errors ?? new Map<string, number>())];

  return (
    <div class="seed">
      <section class="card">
        <h2>Seed data</h2>
        <p class="muted">
          Writes fake but realistic records (users, products, orders, sessions, books, companies; JSON values) through{" "}
          <strong>{shortUrl(target.url)}</strong>
          {note === undefined ? "" : ` (${note})`}.
        </p>
        <form class="toolbar" onSubmit={(event) => void start(event)}>
          <label class="inline">
            Records
            <input
              type="number"
              min={SEED_COUNT_MIN}
              max={SEED_COUNT_MAX}
              step="1"
              aria-label="Number of records"
              value={count}
              disabled={running}
              onInput={(event) => setCount(event.currentTarget.value)}
            />
          </label>
          <button class="btn btn-primary" type="submit" disabled={running}>
            {running ? "Seeding…" : "Seed"}
          </button>
          {running ? (
            <button class="btn" type="button" onClick={() => (stop.current = true)}>
              Stop
            </button>
          ) : null}
        </form>
        {problem === undefined ? null : (
          <div class="error-note" role="alert">
            {problem}
          </div>
        )}
        {progress === undefined ? null : (
          <div class="seed-progress" data-state={running ? "running" : "done"}>
            <div class="progress" role="progressbar" aria-label="Seeding progress" aria-valuemin={0} aria-valuemax={progress.total} aria-valuenow={done}>
              <div class={progress.failed > 0 ? "bar has-failures" : "bar"} style={{ width: `${percent}%` }} />
            </div>
            <p class="progress-text" data-testid="seed-progress-text">
              {formatCount(done)} / {formatCount(progress.total)} · {formatCount(progress.written)} written
              {progress.failed > 0 ? ` · ${formatCount(progress.failed)} failed` : ""}
              {progress.endedMs === undefined ? "" : ` · ${formatMs(progress.endedMs - progress.startedMs)}`}
              {!running && done < progress.total ? " · stopped" : ""}
            </p>
            {errors.slice(0, ERRORS_SHOWN_MAX).map(([message, n]) => (
              <div class="error-note" role="alert">
                {n}× {message}
              </div>
            ))}
            {errors.length > ERRORS_SHOWN_MAX ? <p class="muted small">and {errors.length - ERRORS_SHOWN_MAX} other errors</p> : null}
            {running ? null : (
              <p class="notice" role="status">
                Done. Keys look like <code>{progress.sample.join(", ")}</code>. <a href="#explorer">Open the explorer →</a>
              </p>
            )}
          </div>
        )}
      </section>
    </div>
  );
}
