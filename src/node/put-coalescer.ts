// Replica writes of one event-loop turn to the same peer leave as one call of many records (putEach), which the
// peer judges one by one: one frame entry, one body to parse and one answer for the turn's writes instead of one
// each. Every write still gets its own outcome or its own refusal, as a put of that record alone would.
import { LinkError } from "../bus/peer-link.ts";
import type { PutOutcome, StoredRecord } from "../store/record.ts";
import { chunkRecords } from "./record-chunks.ts";

/** What one record's put came to: its outcome, or the error a put of that record alone would have failed with. */
export type PutResult = { readonly ok: true; readonly outcome: PutOutcome } | { readonly ok: false; readonly error: unknown };

/** Sends records to a peer as one call; resolves with one result per record, in order, or throws for them all. */
export type SendEach = (target: string, records: readonly StoredRecord[], timeoutMs: number) => Promise<readonly PutResult[]>;

/**
 * Writes waiting on one peer (queued, or sent and not yet answered); past it a write fails at once rather than
 * queue, as a link refuses calls past LINK_CALLS_MAX.
 */
export const PUTS_WAITING_MAX = 16_384;

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

export class PutCoalescer {
  /** This turn's writes, by deadline and peer. */
  private queued = new Map<string, Group>();
  /** Writes queued or sent per peer, for PUTS_WAITING_MAX. */
  private readonly waitingPerPeer = new Map<string, number>();
  private scheduled = false;

  constructor(private readonly send: SendEach) {}

  put(target: string, record: StoredRecord, timeoutMs: number): Promise<PutOutcome> {
    const waiting = this.waitingPerPeer.get(target) ?? 0;
    if (waiting >= PUTS_WAITING_MAX) return Promise.reject(new LinkError({ kind: "unreachable", sent: false, reason: "too many calls are waiting on this peer" }));
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

  private flush(): void {
    this.scheduled = false;
    const groups = this.queued;
    this.queued = new Map();
    for (const { target, timeoutMs, waiting } of groups.values()) {
      let at = 0;
      // Calls of bounded count and bytes, as every batch of records between nodes.
      for (const records of chunkRecords(waiting.map((entry) => entry.record))) {
        const part = waiting.slice(at, at + records.length);
        at += records.length;
        this.sendPart(target, records, timeoutMs, part);
      }
    }
  }

  private sendPart(target: string, records: readonly StoredRecord[], timeoutMs: number, part: readonly Waiting[]): void {
    let sent: Promise<readonly PutResult[]>;
    try {
      sent = this.send(target, records, timeoutMs);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent
      .then(
        (results) => {
          part.forEach((entry, i) => {
            const result = results[i];
            if (result === undefined) entry.reject(new Error(`invariant: a put of ${records.length} records answered ${results.length} results`));
            else if (result.ok) entry.resolve(result.outcome);
            else entry.reject(result.error);
          });
        },
        (error: unknown) => {
          for (const entry of part) entry.reject(error);
        },
      )
      .finally(() => {
        const left = (this.waitingPerPeer.get(target) ?? part.length) - part.length;
        if (left > 0) this.waitingPerPeer.set(target, left);
        else this.waitingPerPeer.delete(target);
      });
  }
}
