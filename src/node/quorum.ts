// Waits for W of N replica answers: resolves at the W-th success, fails as soon as W can no longer be reached.
import { NodeError } from "./errors.ts";

export type Fate<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface QuorumResult<T> {
  /** Answers in by the time the quorum was met, by replica. */
  readonly answers: ReadonlyMap<string, T>;
  /** Every replica's final fate, settling after the quorum (for hints and read repair). */
  readonly settled: Promise<ReadonlyMap<string, Fate<T>>>;
}

/**
 * Starts every call at once and resolves when `needed` succeeded. Fails with "unavailable" when too
 * many failed to reach `needed`, and with "timeout" when the quorum is not met within `timeoutMs`.
 */
export function awaitQuorum<T>(
  calls: ReadonlyMap<string, () => Promise<T>>,
  needed: number,
  timeoutMs: number,
  kind: "read" | "write",
  onSettled?: (fates: ReadonlyMap<string, Fate<T>>) => void,
  /** Told, at the timeout, the replicas that had not answered: the earliest news that they do not. */
  onTimeout?: (silent: readonly string[]) => void,
): Promise<QuorumResult<T>> {
  const answers = new Map<string, T>();
  const fates = new Map<string, Fate<T>>();
  const total = calls.size;
  let failures = 0;
  let resolveSettled: (fates: ReadonlyMap<string, Fate<T>>) => void = () => {};
  const settled = new Promise<ReadonlyMap<string, Fate<T>>>((resolve) => {
    resolveSettled = resolve;
  });
  // Whatever the quorum's outcome, the caller learns every replica's fate (for hints and read repair).
  if (onSettled !== undefined) void settled.then(onSettled);
  if (total === 0) resolveSettled(fates);
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      outcome();
    };
    const what = `${kind} of this key`;
    // Only a write leaves the client unsure of its effect; a read that fails changed nothing.
    const unsure = kind === "write" ? "; a write may or may not have been applied" : "";
    const timer = setTimeout(() => {
      if (done) return;
      onTimeout?.([...calls.keys()].filter((replica) => !fates.has(replica)));
      finish(() => reject(new NodeError("timeout", `${what}: ${answers.size} of ${needed} replicas answered within ${timeoutMs} ms${unsure}`)));
    }, timeoutMs);
    if (needed <= 0) finish(() => resolve({ answers, settled }));
    // Fewer replicas than must answer can never meet the quorum: say so now, not at the timeout.
    if (total < needed) {
      finish(() => reject(new NodeError("unavailable", `${what}: only ${total} replicas can answer and ${needed} must${unsure}`)));
    }
    for (const [replica, call] of calls) {
      // A call that throws before it returns a promise is that replica's failure, not the whole quorum's.
      let pending: Promise<T>;
      try {
        pending = call();
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (value) => {
          answers.set(replica, value);
          fates.set(replica, { ok: true, value });
          if (answers.size >= needed) finish(() => resolve({ answers: new Map(answers), settled }));
        },
        (error: unknown) => {
          failures++;
          fates.set(replica, { ok: false, error });
          if (total - failures < needed) {
            const reason = error instanceof Error ? error.message : String(error);
            // When every failure has the same cause (all timed out, the one store failed), the client hears that cause.
            const codes = new Set([...fates.values()].flatMap((fate) => (fate.ok ? [] : [fate.error instanceof NodeError ? fate.error.code : "unavailable"])));
            const code = codes.size === 1 ? [...codes][0]! : "unavailable";
            finish(() => reject(new NodeError(code, `${what}: only ${total - failures} of ${total} replicas can answer and ${needed} must${unsure} (${reason})`)));
          }
        },
      ).finally(() => {
        if (fates.size === total) resolveSettled(fates);
      });
    }
  });
}
