// The member table: who is in the cluster and in what state, merged from gossip and aged by a failure detector.
// Members heard of only from others wait apart (candidates.ts) until this node has gossiped with them itself.
import { NO_FUTURE_BOUND, type FutureBound } from "../clock/future-bound.ts";
import { Candidates, NEW_MEMBERS_PER_MESSAGE_MAX, UNCONFIRMED_LIFETIME_DEAD_PERIODS } from "./candidates.ts";
import { ClockCheck, type ClockReading } from "./clock-check.ts";
import { isNewer, toDigest, toEntry, type Digest, type Entry, type Member, type MemberState } from "./member.ts";
import type { Present } from "./messages.ts";

/** A bound on the table, so a flood of invented URLs cannot grow it without end. */
export const MEMBERS_MAX = 1024;

/** How long a dead member is remembered (reported as dead, probed now and then) before it is forgotten. */
export const FORGET_DEAD_AFTER_MS = 60 * 60 * 1000;

/** A peer's clock estimate counts for this many dead-after periods: one heard from less often is as good as dead. */
const CLOCK_ESTIMATE_LIFETIME_DEAD_PERIODS = 2;

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

export interface MemberTableOptions {
  /** Every generation and heartbeat that arrives is held to it; main passes the node's, unit tests may leave it out. */
  readonly future?: FutureBound;
  /** Told when this node finds its clock off from its peers' (or back within the skew). */
  readonly onClockChange?: (reading: ClockReading) => void;
  /**
   * NODE_PEERS: named by the operator, so their clocks count before they are confirmed members. A node whose
   * clock runs far ahead is never confirmed by anyone; its seeds' refusals are all it hears of their clocks.
   */
  readonly seeds?: readonly string[];
}

export class MemberTable {
  private readonly members = new Map<string, Member>();
  private readonly listeners: ChangeListener[] = [];
  private readonly candidates: Candidates;
  private readonly clockCheck: ClockCheck;
  private readonly future: FutureBound;
  private readonly seeds: ReadonlySet<string>;
  /** The highest view of this node heard from others that outranks its own: one value, outlived once the clock passes it. */
  private outranked: Digest | undefined;

  constructor(
    readonly self: string,
    generation: number,
    private readonly clock: () => number,
    private readonly timing: FailureTiming,
    options: MemberTableOptions = {},
  ) {
    this.future = options.future ?? NO_FUTURE_BOUND;
    this.seeds = new Set(options.seeds ?? []);
    this.candidates = new Candidates(timing.deadAfterMs * UNCONFIRMED_LIFETIME_DEAD_PERIODS);
    this.clockCheck = new ClockCheck({
      maxSkewMs: this.future.maxSkewMs,
      clock,
      estimateLifetimeMs: timing.deadAfterMs * CLOCK_ESTIMATE_LIFETIME_DEAD_PERIODS,
      estimatesMax: MEMBERS_MAX,
      onChange: options.onClockChange,
    });
    this.members.set(self, { nodeUrl: self, generation, heartbeat: 0, leaving: false, state: "active", advancedAtMs: clock() });
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** The table's clock, for callers that time an exchange against the same clock. */
  now(): number {
    return this.clock();
  }

  get own(): Member {
    return this.members.get(this.self)!;
  }

  get(nodeUrl: string): Member | undefined {
    return this.members.get(nodeUrl);
  }

  /** Members heard of only from others, oldest first: not in the ring, never passed on, probed by the Gossiper. */
  /**
   * Members a confirmed member named in its answer to this node's own SYN and not yet confirmed here: a
   * starting node waits for them before it coordinates. Members named unasked (an ACK2, a SYN) do not
   * count, so an injected URL cannot keep a node from joining.
   */
  awaitedCount(): number {
    return this.candidates.answeredCount();
  }

  unconfirmedUrls(): string[] {
    return this.candidates.urls();
  }

  /** A probe of an unconfirmed member went unanswered (or was answered in another's name): it is forgotten. */
  forgetUnconfirmed(nodeUrl: string): void {
    this.candidates.delete(nodeUrl);
  }

  /** Every confirmed member, this node included, sorted by URL. */
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

  /**
   * Advances this node's own heartbeat: called once per gossip round. The heartbeat is the time since the
   * generation, so generation + heartbeat is this node's wall clock and peers can bound it by theirs; it
   * still rises by at least 1 when the wall clock steps back, so the news is always newer.
   */
  beat(): void {
    const own = this.own;
    this.members.set(this.self, { ...own, heartbeat: Math.max(own.heartbeat + 1, this.clock() - own.generation), advancedAtMs: this.clock() });
    this.outlive();
  }

  /**
   * Brings this node's heartbeat up to its clock without forcing a rise: called before answering a SYN, so the
   * answer carries a fresh time for the asker's clock check. Never +1, or a flood of SYNs would push it ahead.
   */
  refresh(): void {
    const own = this.own;
    const heartbeat = this.clock() - own.generation;
    if (heartbeat > own.heartbeat) this.members.set(this.self, { ...own, heartbeat });
    this.outlive();
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

  /**
   * Holds a message's digests to the bound one by one: news of a member whose generation, or generation +
   * heartbeat (its wall clock when it said so), lies beyond this node's now + MAX_CLOCK_SKEW_MS is dropped,
   * and the bound reports it; the rest is kept. News of another member may be a forgery that the sender took
   * in at the edge of its own bound, from a clock a few ms ahead of this one: refusing the whole message for
   * it would cut this node off from an honest sender for as long as the forger keeps it up. Only the sender's
   * own news from the future refuses the message whole: that is its clock, and the refusal tells it so.
   */
  present<T extends Digest>(digests: readonly T[], sender: string): Present<T> {
    const limitMs = this.future.limitMs();
    const kept: T[] = [];
    for (const digest of digests) {
      const { nodeUrl, generation, heartbeat } = digest;
      const kind =
        generation > limitMs && !this.future.accepts("generation", generation) ? "generation"
        : generation + heartbeat > limitMs && !this.future.accepts("heartbeat", generation + heartbeat) ? "heartbeat"
        : undefined;
      if (kind === undefined) kept.push(digest);
      else if (nodeUrl === sender) return { ok: false, refused: { kind, nodeUrl } };
    }
    return { ok: true, kept };
  }

  /** Answers a SYN from `sender`: entries it lacks or holds older, and the members it knows better. */
  reconcile(digests: readonly Digest[], sender: string): { entries: Entry[]; requests: string[] } {
    const named = new Set<string>();
    const requests: string[] = [];
    const newerHere: string[] = [];
    let unknown = 0;
    for (const digest of digests) {
      named.add(digest.nodeUrl);
      if (digest.nodeUrl === this.self) {
        this.refute(digest);
        if (isNewer(this.own, digest)) newerHere.push(this.self);
        continue;
      }
      const local = this.members.get(digest.nodeUrl);
      if (local !== undefined) {
        if (isNewer(digest, local)) requests.push(digest.nodeUrl);
        else if (isNewer(local, digest)) newerHere.push(digest.nodeUrl);
        continue;
      }
      // Members never heard of are asked for only while they could be taken in, and only a few a message.
      if (this.candidates.has(digest.nodeUrl) || unknown >= NEW_MEMBERS_PER_MESSAGE_MAX || !this.candidates.room) continue;
      requests.push(digest.nodeUrl);
      unknown++;
    }
    const missing = [...this.members.keys()].filter((url) => !named.has(url));
    const entries = this.entries([...newerHere, ...missing]);
    // A sender held dead here under newer news than its own restarted after its clock went back. Dead
    // entries are never passed on, yet it must hear of that old self to outlive it, or it never rejoins.
    const senderHere = this.members.get(sender);
    if (senderHere?.state === "dead" && newerHere.includes(sender)) entries.push(toEntry(senderHere));
    return { entries, requests };
  }

  /**
   * Merges entries heard through gossip (an ACK or ACK2). Newer news of a member (re)activates it at once.
   * A member not known yet joins only if it is `confirmed`, the node whose answer to this node's own SYN
   * this is; any other waits as unconfirmed, a few per message, until this node has gossiped with it.
   */
  learn(entries: readonly Entry[], confirmed?: string): MembershipChange[] {
    const now = this.clock();
    let introduced = 0;
    return this.merge(entries, (entry) => {
      if (entry.nodeUrl === confirmed) return true;
      if (introduced < NEW_MEMBERS_PER_MESSAGE_MAX && this.candidates.add(entry, now, confirmed !== undefined)) introduced++;
      return false;
    });
  }

  /** Merges entries of members this node trusts as confirmed (set up by hand, as tests do): unknown ones join at once. */
  apply(entries: readonly Entry[]): MembershipChange[] {
    return this.merge(entries, () => true);
  }

  /**
   * Records a peer's wall time read from a message; `sentAtMs` when it answers this node's own request. Only
   * confirmed members that are not dead, and seeds, are heard: an unconfirmed member is anyone's invention.
   */
  observeClock(peer: string, peerWallMs: number, sentAtMs?: number): void {
    if (this.countsClockOf(peer)) this.clockCheck.observe(peer, peerWallMs, sentAtMs);
  }

  /** Whether this node's clock is within MAX_CLOCK_SKEW_MS of its live peers', by the median of their estimates. */
  clockReading(): ClockReading {
    return this.clockCheck.reading((peer) => this.countsClockOf(peer));
  }

  /** A confirmed member that is not dead, or a seed not held dead: the peers whose clocks the clock check hears. */
  private countsClockOf(peer: string): boolean {
    if (peer === this.self) return false;
    const member = this.members.get(peer);
    return member === undefined ? this.seeds.has(peer) : member.state !== "dead";
  }

  /** `admit` decides, per entry of a member not in the table, whether it joins now. */
  private merge(entries: readonly Entry[], admit: (entry: Entry) => boolean): MembershipChange[] {
    const now = this.clock();
    const changes: MembershipChange[] = [];
    for (const entry of entries) {
      if (entry.nodeUrl === this.self) {
        this.refute(entry);
        continue;
      }
      const local = this.members.get(entry.nodeUrl);
      if (local !== undefined && !isNewer(entry, local)) continue;
      if (local === undefined && (this.members.size >= MEMBERS_MAX || !admit(entry))) continue;
      this.candidates.delete(entry.nodeUrl);
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
    this.candidates.expire(now);
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
    // Each round, so a clock that drifts off (or back) is logged even when no one asks for health.
    this.clockReading();
    return changes;
  }

  /**
   * Someone holds news of this node newer than its own: a forgery, or what an earlier process of this node
   * said before a restart with its wall clock set back. This node never believes it, and never takes a view
   * past its own clock to beat it either: peers bound its news by their clocks, and a view 1 ms past the edge
   * of theirs would have all its gossip refused. It keeps the highest such news and outlives it (outlive()).
   */
  private refute(news: Digest): void {
    if (!isNewer(news, this.own)) return;
    if (this.outranked === undefined || isNewer(news, this.outranked)) this.outranked = toDigest(news);
    this.outlive();
  }

  /**
   * Once this node's clock has passed the wall time of the news that outranked it (generation + heartbeat),
   * takes that generation with heartbeat now - generation: newer than the news, and exactly this node's
   * clock. News that passed a peer's bound is at most about the skew ahead of this clock when the peers'
   * clocks are right, so that is the longest wait. News of its own generation never needs it: the heartbeat
   * is the time since the generation, so this node's own beats overtake it by themselves.
   */
  private outlive(): void {
    const news = this.outranked;
    if (news === undefined) return;
    const own = this.own;
    const now = this.clock();
    if (!isNewer(own, news)) {
      if (news.generation + news.heartbeat >= now) return;
      this.members.set(this.self, { ...own, generation: news.generation, heartbeat: now - news.generation });
    }
    this.outranked = undefined;
  }

  private emit(changes: readonly MembershipChange[]): void {
    if (changes.length === 0) return;
    for (const listener of this.listeners) listener(changes);
  }
}

function severity(state: MemberState): number {
  return state === "active" ? 0 : state === "stale" ? 1 : 2;
}
