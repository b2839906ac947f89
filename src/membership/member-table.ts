// The member table: who is in the cluster and in what state, merged from gossip and aged by a failure detector.
import { isNewer, toDigest, toEntry, type Digest, type Entry, type Member, type MemberState } from "./member.ts";

/** A bound on the table, so a flood of invented URLs cannot grow it without end. */
export const MEMBERS_MAX = 1024;

/** How long a dead member is remembered (reported as dead, probed now and then) before it is forgotten. */
export const FORGET_DEAD_AFTER_MS = 60 * 60 * 1000;

export interface FailureTiming {
  /** Silence after which a member is suspect (stale): still in the ring, reported as such. */
  readonly staleAfterMs: number;
  /** Silence after which a member is dead and leaves the ring. */
  readonly deadAfterMs: number;
}

export interface MembershipChange {
  readonly nodeUrl: string;
  readonly from: MemberState | "unknown";
  readonly to: MemberState;
}

export type ChangeListener = (changes: readonly MembershipChange[]) => void;

export class MemberTable {
  private readonly members = new Map<string, Member>();
  private readonly listeners: ChangeListener[] = [];

  constructor(
    readonly self: string,
    generation: number,
    private readonly clock: () => number,
    private readonly timing: FailureTiming,
  ) {
    this.members.set(self, { nodeUrl: self, generation, heartbeat: 0, leaving: false, state: "active", advancedAtMs: clock() });
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  get own(): Member {
    return this.members.get(this.self)!;
  }

  get(nodeUrl: string): Member | undefined {
    return this.members.get(nodeUrl);
  }

  /** Every member, this node included, sorted by URL. */
  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.nodeUrl < b.nodeUrl ? -1 : a.nodeUrl > b.nodeUrl ? 1 : 0));
  }

  /** Members that belong in the ring: all but the dead. */
  aliveUrls(): string[] {
    return this.list().filter((m) => m.state !== "dead").map((m) => m.nodeUrl);
  }

  /** Members that own ranges of the ring: the live ones, less those handing their data off to leave. */
  ringUrls(): string[] {
    return this.list().filter((m) => m.state !== "dead" && !m.leaving).map((m) => m.nodeUrl);
  }

  /** Advances this node's own heartbeat: called once per gossip round. */
  beat(): void {
    const own = this.own;
    this.members.set(this.self, { ...own, heartbeat: own.heartbeat + 1, advancedAtMs: this.clock() });
  }

  /** Marks this node as leaving (gossiped with its next heartbeat); listeners hear of it as a change. */
  setLeaving(leaving: boolean): void {
    if (this.own.leaving === leaving) return;
    this.members.set(this.self, { ...this.own, leaving, heartbeat: this.own.heartbeat + 1 });
    this.emit([{ nodeUrl: this.self, from: "active", to: "active" }]);
  }

  /**
   * Digests of every member this node does not hold dead. Dead members are local knowledge: passing
   * them on would put a long-gone node into a newcomer's ring until its own detector caught up.
   */
  digests(): Digest[] {
    return this.list().filter((m) => m.state !== "dead").map(toDigest);
  }

  entries(nodeUrls: readonly string[]): Entry[] {
    return nodeUrls.flatMap((url) => {
      const member = this.members.get(url);
      return member === undefined || member.state === "dead" ? [] : [toEntry(member)];
    });
  }

  /** Answers a SYN from `sender`: entries it lacks or holds older, and the members it knows better. */
  reconcile(digests: readonly Digest[], sender: string): { entries: Entry[]; requests: string[] } {
    const named = new Set<string>();
    const requests: string[] = [];
    const newerHere: string[] = [];
    for (const digest of digests) {
      named.add(digest.nodeUrl);
      if (digest.nodeUrl === this.self) {
        this.outlive(digest);
        if (isNewer(this.own, digest)) newerHere.push(this.self);
        continue;
      }
      const local = this.members.get(digest.nodeUrl);
      if (local === undefined || isNewer(digest, local)) requests.push(digest.nodeUrl);
      else if (isNewer(local, digest)) newerHere.push(digest.nodeUrl);
    }
    const missing = [...this.members.keys()].filter((url) => !named.has(url));
    const entries = this.entries([...newerHere, ...missing]);
    // A sender held dead here under newer news than its own restarted after its clock went back. Dead
    // entries are never passed on, yet it must hear of that old self to outlive it, or it never rejoins.
    const senderHere = this.members.get(sender);
    if (senderHere?.state === "dead" && newerHere.includes(sender)) entries.push(toEntry(senderHere));
    return { entries, requests };
  }

  /** Merges entries from an ACK or ACK2; newer news (re)activates a member at once. */
  apply(entries: readonly Entry[]): MembershipChange[] {
    const now = this.clock();
    const changes: MembershipChange[] = [];
    for (const entry of entries) {
      if (entry.nodeUrl === this.self) {
        this.outlive(entry);
        continue;
      }
      const local = this.members.get(entry.nodeUrl);
      if (local !== undefined && !isNewer(entry, local)) continue;
      if (local === undefined && this.members.size >= MEMBERS_MAX) continue;
      this.members.set(entry.nodeUrl, { ...toEntry(entry), state: "active", advancedAtMs: now });
      // A member that starts or stops leaving changes the ring as much as a join or a death does.
      if (local?.state !== "active" || local.leaving !== entry.leaving) changes.push({ nodeUrl: entry.nodeUrl, from: local?.state ?? "unknown", to: "active" });
    }
    this.emit(changes);
    return changes;
  }

  /** The failure detector: members silent too long turn stale, then dead. */
  detect(): MembershipChange[] {
    const now = this.clock();
    const changes: MembershipChange[] = [];
    for (const member of this.members.values()) {
      if (member.nodeUrl === this.self) continue;
      const silentMs = now - member.advancedAtMs;
      // Long-dead members are forgotten, so URLs that never return do not fill the table; a node that
      // does return gossips itself and joins again as new.
      if (member.state === "dead" && silentMs >= this.timing.deadAfterMs + FORGET_DEAD_AFTER_MS) {
        this.members.delete(member.nodeUrl);
        continue;
      }
      const state: MemberState = silentMs >= this.timing.deadAfterMs ? "dead" : silentMs >= this.timing.staleAfterMs ? "stale" : "active";
      // Only gossip revives a member; the detector only ever moves one toward dead.
      if (state === member.state || severity(state) < severity(member.state)) continue;
      this.members.set(member.nodeUrl, { ...member, state });
      changes.push({ nodeUrl: member.nodeUrl, from: member.state, to: state });
    }
    this.emit(changes);
    return changes;
  }

  /**
   * Someone holds news of this node from a later generation than its own (the wall clock went back
   * across a restart): take a generation past it, so this process's news wins everywhere.
   */
  private outlive(digest: Digest): void {
    const own = this.own;
    if (digest.generation >= own.generation && isNewer(digest, own)) {
      this.members.set(this.self, { ...own, generation: digest.generation + 1, heartbeat: 0 });
    }
  }

  private emit(changes: readonly MembershipChange[]): void {
    if (changes.length === 0) return;
    for (const listener of this.listeners) listener(changes);
  }
}

function severity(state: MemberState): number {
  return state === "active" ? 0 : state === "stale" ? 1 : 2;
}
