// Members heard of only from others (unconfirmed): held apart from the member table, bounded and short-lived,
// until this node has itself gossiped with them. Anyone can name a URL in a SYN or ACK2; only a real node answers.
import { toEntry, type Entry } from "./member.ts";

/** Unconfirmed members held at once: far below MEMBERS_MAX, so a flood of invented URLs can never fill the table. */
export const UNCONFIRMED_MAX = 16;

/**
 * One gossip message can introduce at most this many members this node has never heard of; the rest are
 * ignored. A real cluster names the others again in later rounds, so they still come in, a few at a time.
 */
export const NEW_MEMBERS_PER_MESSAGE_MAX = 8;

/**
 * An unconfirmed member is forgotten after this many dead-after periods if no probe got an answer from it:
 * a real joiner is probed within a round or two, so this only ever ends invented ones.
 */
export const UNCONFIRMED_LIFETIME_DEAD_PERIODS = 3;

export interface Candidate extends Entry {
  /** Local time at which this node first heard of it; the lifetime counts from here, never extended by hearsay. */
  readonly learntAtMs: number;
  /** Named in a member's answer to this node's own SYN, not in a message anyone could have sent unasked. */
  readonly answered: boolean;
}

export class Candidates {
  private readonly held = new Map<string, Candidate>();

  constructor(private readonly lifetimeMs: number) {}

  has(nodeUrl: string): boolean {
    return this.held.has(nodeUrl);
  }

  get size(): number {
    return this.held.size;
  }

  get room(): boolean {
    return this.held.size < UNCONFIRMED_MAX;
  }

  /**
   * Holds `entry` as unconfirmed; false when it was held already or there is no room. One held unasked and now
   * named in an answer to this node's own SYN becomes answered: a node that restarts hears of members from its
   * peers' SYNs before its own answers come, and must still wait for every member its seeds name before it serves.
   */
  add(entry: Entry, nowMs: number, answered: boolean): boolean {
    const held = this.held.get(entry.nodeUrl);
    if (held !== undefined) {
      if (answered && !held.answered) this.held.set(entry.nodeUrl, { ...held, answered: true });
      return false;
    }
    if (!this.room) return false;
    this.held.set(entry.nodeUrl, { ...toEntry(entry), learntAtMs: nowMs, answered });
    return true;
  }

  /** How many held members were named in answers to this node's own SYNs. */
  answeredCount(): number {
    let count = 0;
    for (const candidate of this.held.values()) if (candidate.answered) count++;
    return count;
  }

  get(nodeUrl: string): Candidate | undefined {
    return this.held.get(nodeUrl);
  }

  delete(nodeUrl: string): void {
    this.held.delete(nodeUrl);
  }

  /** The unconfirmed members in the order they were learnt, oldest first: the order they are probed in. */
  urls(): string[] {
    return [...this.held.keys()];
  }

  /** Forgets those held past their lifetime. */
  expire(nowMs: number): void {
    for (const [url, candidate] of this.held) {
      if (nowMs - candidate.learntAtMs >= this.lifetimeMs) this.held.delete(url);
    }
  }
}
