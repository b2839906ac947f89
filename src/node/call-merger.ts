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
  /** The caller's next step on the result, in the callback that settles it; a throw rejects the call. */
  readonly next: ((value: R) => unknown) | undefined;
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
   * settles with what `next` makes of the result (or throws): one promise per caller, not one per step.
   */
  call(target: string, item: T, timeoutMs: number): Promise<R>;
  call<M>(target: string, item: T, timeoutMs: number, next: (value: R) => M): Promise<M>;
  call(target: string, item: T, timeoutMs: number, next?: (value: R) => unknown): Promise<unknown> {
    const waiting = this.waitingPerPeer.get(target) ?? 0;
    if (waiting >= MERGED_WAITING_MAX) return Promise.reject(this.options.overloaded(target, timeoutMs));
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
    const promise = new Promise<unknown>((resolve, reject) => list.push({ item, next, resolve, reject }));
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
      for (const entry of group.waiting) entry.reject(error);
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
            if (result === undefined) entry.reject(new Error(`invariant: a merged call of ${part.length} items answered ${results.length} results`));
            else if (!result.ok) entry.reject(result.error);
            else if (entry.next === undefined) entry.resolve(result.value);
            else settleWith(entry, entry.next, result.value);
          });
        },
        (error: unknown) => {
          for (const entry of part) entry.reject(error);
        },
      )
      .finally(() => this.settled(target, part.length));
  }

  private settled(target: string, count: number): void {
    const left = (this.waitingPerPeer.get(target) ?? count) - count;
    if (left > 0) this.waitingPerPeer.set(target, left);
    else this.waitingPerPeer.delete(target);
  }
}

/** Settles a call with what its next step makes of `value`, or with what that step throws. */
function settleWith<R>(entry: Waiting<unknown, R>, next: (value: R) => unknown, value: R): void {
  let made: unknown;
  try {
    made = next(value);
  } catch (error) {
    entry.reject(error);
    return;
  }
  entry.resolve(made);
}
