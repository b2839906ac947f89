// Replica writes of one event-loop turn to the same peer leave as one call of many records (putEach), which the
// peer judges one by one: one frame entry, one body to parse and one answer for the turn's writes instead of one
// each. Every write still gets its own outcome or its own refusal, as a put of that record alone would.
import type { PutOutcome, StoredRecord } from "../store/record.ts";
import { RECORDS_PER_REQUEST_MAX } from "./record-wire.ts";
import type { PutResult } from "./replica-service.ts";

/** Sends records to a peer as one call; resolves with one result per record, in order, or throws for them all. */
export type SendEach = (target: string, records: readonly StoredRecord[], timeoutMs: number) => Promise<readonly PutResult[]>;

/**
 * Writes waiting on one peer (queued, or sent and not yet answered); past it a write fails at once rather than
 * queue, as a link refuses calls past LINK_CALLS_MAX.
 */
export const PUTS_WAITING_MAX = 16_384;
/** A record whose key and value pass this many UTF-16 units goes in a call of its own: merging saves it nothing. */
export const MERGED_RECORD_CHARS_MAX = 64 * 1024;
/**
 * UTF-16 units of keys and values in one merged call. JSON may write a unit as six, so a call stays far below a
 * frame's bound however its values escape, as each record alone would.
 */
export const MERGED_CALL_CHARS_MAX = 512 * 1024;

interface Waiting {
  readonly record: StoredRecord;
  readonly resolve: (outcome: PutOutcome) => void;
  readonly reject: (error: unknown) => void;
}

interface Group {
  readonly target: string;
  readonly timeoutMs: number;
  readonly waiting: Waiting[];
}

export interface PutCoalescerOptions {
  readonly send: SendEach;
  /** The error a write fails with when PUTS_WAITING_MAX writes already wait on its peer. */
  readonly overloaded: (target: string, timeoutMs: number) => unknown;
}

/** Whether a record may join a merged call; a larger one goes alone. */
export function mergeable(record: StoredRecord): boolean {
  return record.key.length + record.value.length <= MERGED_RECORD_CHARS_MAX;
}

export class PutCoalescer {
  /** This turn's writes, by deadline and peer. */
  private queued = new Map<string, Group>();
  /** Writes queued or sent per peer, for PUTS_WAITING_MAX. */
  private readonly waitingPerPeer = new Map<string, number>();
  private scheduled = false;

  constructor(private readonly options: PutCoalescerOptions) {}

  /** A write of one mergeable record (see `mergeable`), sent with the turn's others to the same peer. */
  put(target: string, record: StoredRecord, timeoutMs: number): Promise<PutOutcome> {
    const waiting = this.waitingPerPeer.get(target) ?? 0;
    if (waiting >= PUTS_WAITING_MAX) return Promise.reject(this.options.overloaded(target, timeoutMs));
    this.waitingPerPeer.set(target, waiting + 1);
    const key = `${timeoutMs} ${target}`;
    let group = this.queued.get(key);
    if (group === undefined) {
      group = { target, timeoutMs, waiting: [] };
      this.queued.set(key, group);
    }
    const { waiting: list } = group;
    const promise = new Promise<PutOutcome>((resolve, reject) => list.push({ record, resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate lets every request already read from the sockets add its writes first.
      setImmediate(() => this.flush());
    }
    return promise;
  }

  /** Fails the writes queued for `target` and not sent yet (a member removed: nothing may call it again). */
  drop(target: string, error: unknown): void {
    for (const [key, group] of this.queued) {
      if (group.target !== target) continue;
      this.queued.delete(key);
      this.settled(target, group.waiting.length);
      for (const entry of group.waiting) entry.reject(error);
    }
  }

  private flush(): void {
    this.scheduled = false;
    const groups = this.queued;
    this.queued = new Map();
    for (const { target, timeoutMs, waiting } of groups.values()) {
      let start = 0;
      let chars = 0;
      for (let i = 0; i < waiting.length; i++) {
        const { record } = waiting[i]!;
        const size = record.key.length + record.value.length;
        if (i > start && (i - start >= RECORDS_PER_REQUEST_MAX || chars + size > MERGED_CALL_CHARS_MAX)) {
          this.sendPart(target, timeoutMs, waiting.slice(start, i));
          start = i;
          chars = 0;
        }
        chars += size;
      }
      if (start < waiting.length) this.sendPart(target, timeoutMs, waiting.slice(start));
    }
  }

  private sendPart(target: string, timeoutMs: number, part: readonly Waiting[]): void {
    let sent: Promise<readonly PutResult[]>;
    try {
      sent = this.options.send(
        target,
        part.map((entry) => entry.record),
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
            if (result === undefined) entry.reject(new Error(`invariant: a put of ${part.length} records answered ${results.length} results`));
            else if (result.ok) entry.resolve(result.outcome);
            else entry.reject(result.error);
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
