// Calls of one kind made to the same peer in one event-loop turn leave as one call of many items (putEach for
// replica writes, versionEach for digest reads), which the peer answers item by item: one frame entry, one body to
// parse and one answer for the turn's calls instead of one each. Every caller still gets its own result or its own
// refusal, as a call of that item alone would.
import { nextImmediate, type Schedule } from "../bus/turn-end.ts";

/** What one item came to: its result, or the error a call of that item alone would have failed with. */
export type ItemResult<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

/** A promise's outcome as a value: what one item of a merged call came to. */
export function itemResultOf<R>(promise: Promise<R>): Promise<ItemResult<R>> {
  return promise.then(
    (value): ItemResult<R> => ({ ok: true, value }),
    (error: unknown): ItemResult<R> => ({ ok: false, error }),
  );
}

/**
 * Calls waiting on one peer per merger (queued, or sent and not yet answered); past it a call fails at once
 * rather than queue, as a link refuses calls past LINK_CALLS_MAX.
 */
export const MERGED_WAITING_MAX = 16_384;

export interface CallMergerOptions<T, R> {
  /** Sends items to a peer as one call; resolves with one result per item, in order, or throws for them all. */
  readonly send: (target: string, items: readonly T[], timeoutMs: number) => Promise<readonly ItemResult<R>[]>;
  /** The error a call fails with when MERGED_WAITING_MAX calls already wait on its peer. */
  readonly overloaded: (target: string, timeoutMs: number) => unknown;
  /** Items in one merged call at most. */
  readonly itemsMax: number;
  /** An item's size in UTF-16 units, and the most one merged call carries (always at least one item). */
  readonly charsOf: (item: T) => number;
  readonly charsMax: number;
  /** When the turn's calls are merged and sent: at the end of the turn (setImmediate when left out). */
  readonly schedule?: Schedule;
}

interface Waiting<T, R> {
  readonly item: T;
  /** The caller's next step on the result, in the callback that settles it; a throw fails the call. */
  readonly next: ((value: R) => unknown) | undefined;
  /** The caller's step on a failure (the item's, the call's, or a throw of `next`), in the same callback; a throw rejects the call. */
  readonly failed: ((error: unknown) => unknown) | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface Group<T, R> {
  readonly target: string;
  readonly timeoutMs: number;
  readonly waiting: Waiting<T, R>[];
}

export class CallMerger<T, R> {
  /** This turn's calls, by peer and deadline (no key to build per call). */
  private queued = new Map<string, Map<number, Group<T, R>>>();
  /** Calls queued or sent per peer, for MERGED_WAITING_MAX. */
  private readonly waitingPerPeer = new Map<string, number>();
  private scheduled = false;

  constructor(private readonly options: CallMergerOptions<T, R>) {}

  /**
   * A call of one item, sent with the turn's others to the same peer and deadline. With `next`, the promise
   * settles with what `next` makes of the result, and with `failed`, with what `failed` makes of a failure (a
   * throw of `next` included): one promise per caller, not one per step.
   */
  call(target: string, item: T, timeoutMs: number): Promise<R>;
  call<M>(target: string, item: T, timeoutMs: number, next: (value: R) => M, failed?: (error: unknown) => M | PromiseLike<M>): Promise<M>;
  call(target: string, item: T, timeoutMs: number, next?: (value: R) => unknown, failed?: (error: unknown) => unknown): Promise<unknown> {
    const waiting = this.waitingPerPeer.get(target) ?? 0;
    if (waiting >= MERGED_WAITING_MAX) {
      const refused = Promise.reject(this.options.overloaded(target, timeoutMs));
      return failed === undefined ? refused : refused.catch(failed);
    }
    this.waitingPerPeer.set(target, waiting + 1);
    let byDeadline = this.queued.get(target);
    if (byDeadline === undefined) {
      byDeadline = new Map();
      this.queued.set(target, byDeadline);
    }
    let group = byDeadline.get(timeoutMs);
    if (group === undefined) {
      group = { target, timeoutMs, waiting: [] };
      byDeadline.set(timeoutMs, group);
    }
    const { waiting: list } = group;
    const promise = new Promise<unknown>((resolve, reject) => list.push({ item, next, failed, resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      // At the end of the turn: every request already read from the sockets adds its calls first.
      (this.options.schedule ?? nextImmediate)(() => this.flush());
    }
    return promise;
  }

  /** Fails the calls queued for `target` and not sent yet (a member removed: nothing may call it again). */
  drop(target: string, error: unknown): void {
    const byDeadline = this.queued.get(target);
    if (byDeadline === undefined) return;
    this.queued.delete(target);
    for (const group of byDeadline.values()) {
      this.settled(target, group.waiting.length);
      for (const entry of group.waiting) fail(entry, error);
    }
  }

  private flush(): void {
    this.scheduled = false;
    const groups = this.queued;
    this.queued = new Map();
    const { itemsMax, charsMax, charsOf } = this.options;
    for (const byDeadline of groups.values()) {
      for (const { target, timeoutMs, waiting } of byDeadline.values()) {
        let start = 0;
        let chars = 0;
        for (let i = 0; i < waiting.length; i++) {
          const size = charsOf(waiting[i]!.item);
          if (i > start && (i - start >= itemsMax || chars + size > charsMax)) {
            this.sendPart(target, timeoutMs, waiting.slice(start, i));
            start = i;
            chars = 0;
          }
          chars += size;
        }
        if (start < waiting.length) this.sendPart(target, timeoutMs, waiting.slice(start));
      }
    }
  }

  private sendPart(target: string, timeoutMs: number, part: readonly Waiting<T, R>[]): void {
    const settle = () => this.settled(target, part.length);
    let sent: Promise<readonly ItemResult<R>[]>;
    try {
      sent = this.options.send(
        target,
        part.map((entry) => entry.item),
        timeoutMs,
      );
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent
      .then(
        (results) => {
          part.forEach((entry, i) => {
            const result = results[i];
            if (result === undefined) fail(entry, new Error(`invariant: a merged call of ${part.length} items answered ${results.length} results`));
            else if (!result.ok) fail(entry, result.error);
            else if (entry.next === undefined) entry.resolve(result.value);
            else succeed(entry, entry.next, result.value);
          });
        },
        (error: unknown) => {
          for (const entry of part) fail(entry, error);
        },
      )
      // Whichever way it went (then, not finally: no promise beyond this one per merged call).
      .then(settle, settle);
  }

  private settled(target: string, count: number): void {
    const left = (this.waitingPerPeer.get(target) ?? count) - count;
    if (left > 0) this.waitingPerPeer.set(target, left);
    else this.waitingPerPeer.delete(target);
  }
}

/** Settles a call with what its next step makes of `value`, or as failed with what that step throws. */
function succeed<R>(entry: Waiting<unknown, R>, next: (value: R) => unknown, value: R): void {
  let made: unknown;
  try {
    made = next(value);
  } catch (error) {
    fail(entry, error);
    return;
  }
  entry.resolve(made);
}

/** Settles a failed call: with what its `failed` step makes of the error, else (or when that step throws) as rejected. */
function fail<T, R>(entry: Waiting<T, R>, error: unknown): void {
  if (entry.failed === undefined) {
    entry.reject(error);
    return;
  }
  let made: unknown;
  try {
    made = entry.failed(error);
  } catch (thrown) {
    entry.reject(thrown);
    return;
  }
  entry.resolve(made);
}
