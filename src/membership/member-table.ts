// The member table: who is in the cluster and in what state, merged from gossip and aged by a failure detector.
// Members heard of only from others wait apart (candidates.ts) until this node has gossiped with them itself.
import { NO_FUTURE_BOUND, type FutureBound } from "../clock/future-bound.ts";
import { Candidates, NEW_MEMBERS_PER_MESSAGE_MAX, UNCONFIRMED_LIFETIME_DEAD_PERIODS } from "./candidates.ts";
import { ClockCheck, type ClockReading } from "./clock-check.ts";
import { isNewer, toDigest, toEntry, type Digest, type Entry, type Member, type MemberState } from "./member.ts";
import type { Present } from "./messages.ts";

/** A bound on the table, so a flood of invented URLs cannot grow it without end. */
export const MEMBERS_MAX = 1024;

/**
 * How long a removed member is remembered (its removal passed on by gossip) before it is forgotten: a week, so a
 * node cut off or frozen for days still hears of the removal when it returns (MEMBERS_MAX bounds what is kept).
 * A dead member is never forgotten: it keeps its place in the ring until it is removed.
 */
export const FORGET_REMOVED_AFTER_MS = 7 * 24 * 60 * 60 * 1000;

/** A peer's clock estimate counts for this many dead-after periods: one heard from less often is as good as dead. */
const CLOCK_ESTIMATE_LIFETIME_DEAD_PERIODS = 2;
/**
 * Once no peer's clock counts (all held dead: a clock far ahead has its gossip refused everywhere), the last
 * reading stands this long, in ms: long enough for an operator or NTP to set the clock right, and bounded, so a
 * node left alone for good does not judge its clock by peers long gone.
 */
export const CLOCK_MEDIAN_KEPT_MS = 10 * 60 * 1000;

export interface FailureTiming {
  /** Silence after which a member is suspect (stale): still in the ring, reported as such. */
  readonly staleAfterMs: number;
  /**
   * Silence after which a member is dead: no request is sent to it (its writes wait as hints), yet it keeps
   * its place in the ring until it leaves or is removed. Liveness is not ownership: a side of a partition
   * that took over the ranges of the members it cannot see would take writes for keys it holds no quorum of.
   */
  readonly deadAfterMs: number;
}

/** Whether this node sees a majority of the cluster's members (itself included; removed ones not counted). */
export interface MajorityView {
  /** Members that own ranges (dead ones too) and this node: the last known cluster. */
  readonly members: number;
  /** Of those, the ones this node does not hold dead, itself included. */
  readonly reachable: number;
  /** reachable > members / 2. */
  readonly majority: boolean;
}

/** Why a removal was refused. */
export type RemovalRefusal = "unknown" | "self" | "alive" | "removed" | "minority";

export interface MembershipChange {
  readonly nodeUrl: string;
  readonly from: MemberState | "unknown";
  readonly to: MemberState | "removed";
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
  /**
   * Monotonic ms (main passes performance.now) for the failure detector: silence is measured on it, never on the
   * wall clock, which NTP can step. Left out, the table's one clock serves both (unit tests with a fake clock).
   */
  readonly monotonic?: () => number;
  /**
   * A gap between two detector runs longer than this is this node's own pause (SIGSTOP, a frozen VM, a blocked
   * loop), not its peers' silence, and is excused (see detect). Main passes the stale time; left out, never.
   */
  readonly pauseAfterMs?: number;
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
  private readonly monotonic: () => number;
  private readonly pauseAfterMs: number;
  /** Monotonic time of the last detector run: a gap far longer than the gossip interval is this node's own pause. */
  private detectedAtMs: number | undefined;
  /** Monotonic time since which the detector has found this node without a majority, or undefined. */
  private minoritySinceMs: number | undefined;

  constructor(
    readonly self: string,
    generation: number,
    private readonly clock: () => number,
    private readonly timing: FailureTiming,
    options: MemberTableOptions = {},
  ) {
    this.future = options.future ?? NO_FUTURE_BOUND;
    this.monotonic = options.monotonic ?? clock;
    this.pauseAfterMs = options.pauseAfterMs ?? Number.POSITIVE_INFINITY;
    this.seeds = new Set(options.seeds ?? []);
    this.candidates = new Candidates(timing.deadAfterMs * UNCONFIRMED_LIFETIME_DEAD_PERIODS);
    this.clockCheck = new ClockCheck({
      maxSkewMs: this.future.maxSkewMs,
      clock,
      monotonic: options.monotonic,
      estimateLifetimeMs: timing.deadAfterMs * CLOCK_ESTIMATE_LIFETIME_DEAD_PERIODS,
      estimatesMax: MEMBERS_MAX,
      medianKeptMs: CLOCK_MEDIAN_KEPT_MS,
      onChange: options.onClockChange,
    });
    this.members.set(self, { nodeUrl: self, generation, heartbeat: 0, leaving: false, state: "active", advancedAtMs: this.monotonic() });
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

  /** A probe of an unconfirmed member was answered in another's name: it is forgotten. */
  forgetUnconfirmed(nodeUrl: string): void {
    this.candidates.delete(nodeUrl);
  }

  /**
   * A probe of an unconfirmed member went unanswered. One that a member named in its answer to this node's own
   * SYN is a member of the cluster as that member knows it: down, yet owning ranges, so it is taken in as dead
   * and this node's ring is the cluster's (a node restarting while another is down would otherwise place keys
   * on a ring of its own). One named unasked is forgotten.
   */
  unanswered(nodeUrl: string): MembershipChange[] {
    const candidate = this.candidates.get(nodeUrl);
    if (candidate === undefined) return [];
    this.candidates.delete(nodeUrl);
    if (!candidate.answered || this.members.has(nodeUrl) || this.members.size >= MEMBERS_MAX) return [];
    this.members.set(nodeUrl, { ...toEntry(candidate), state: "dead", advancedAtMs: this.monotonic() - this.timing.deadAfterMs });
    const changes: MembershipChange[] = [{ nodeUrl, from: "unknown", to: "dead" }];
    this.emit(changes);
    return changes;
  }

  /** Every confirmed member, this node included, sorted by URL. */
  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.nodeUrl < b.nodeUrl ? -1 : a.nodeUrl > b.nodeUrl ? 1 : 0));
  }

  /** Members this node can reach, by gossip: all but the dead and the removed. */
  aliveUrls(): string[] {
    return this.list().filter((m) => m.state !== "dead" && m.removed !== true).map((m) => m.nodeUrl);
  }

  /**
   * Members that own ranges of the ring: all but those handing their data off to leave and the removed. A dead
   * member keeps its ranges; the ring changes only on a join, a leave or a removal.
   */
  ringUrls(): string[] {
    return this.list().filter((m) => !m.leaving && m.removed !== true).map((m) => m.nodeUrl);
  }

  /** How long ago, on the monotonic clock, this node last heard the member's news advance. */
  silenceOf(member: Member): number {
    return Math.max(0, this.monotonic() - member.advancedAtMs);
  }

  /** Whether `nodeUrl` is a member held dead (and not removed): its requests wait as hints. */
  isDead(nodeUrl: string): boolean {
    const member = this.members.get(nodeUrl);
    return member !== undefined && member.removed !== true && member.state === "dead";
  }

  /**
   * Whether this node sees a majority of its cluster: the members that own ranges (and this node, even while it
   * leaves), counted whether alive or dead, against those it does not hold dead. A node on the minority side of a partition
   * says so; each key's own quorum still decides whether a request on it can be served.
   */
  majority(): MajorityView {
    let members = 0;
    let reachable = 0;
    for (const member of this.members.values()) {
      if (member.nodeUrl !== this.self && (member.removed === true || member.leaving)) continue;
      members++;
      if (member.nodeUrl === this.self || member.state !== "dead") reachable++;
    }
    return { members, reachable, majority: reachable * 2 > members };
  }

  /**
   * Removes a member held dead from the cluster: it leaves every ring as gossip spreads the removal, and its
   * ranges go to the next nodes. Refused for this node, an unknown or already removed member, one not held
   * dead here (a member that answers gossip is not gone; ask it to leave instead), and by a node that does not
   * see a majority (on the minority side of a partition every member across it looks dead) unless `force`: the
   * operator's word that the member is gone, the one way out for a cluster of two, or of mostly dead nodes.
   */
  remove(nodeUrl: string, force = false): { ok: true } | { ok: false; refused: RemovalRefusal } {
    if (nodeUrl === this.self) return { ok: false, refused: "self" };
    const member = this.members.get(nodeUrl);
    if (member === undefined) return { ok: false, refused: "unknown" };
    if (member.removed === true) return { ok: false, refused: "removed" };
    if (member.state !== "dead") return { ok: false, refused: "alive" };
    if (!force && !this.majority().majority) return { ok: false, refused: "minority" };
    this.members.set(nodeUrl, { ...member, removed: true, advancedAtMs: this.monotonic() });
    this.emit([{ nodeUrl, from: member.state, to: "removed" }]);
    return { ok: true };
  }

  /**
   * The automatic removal: members dead for at least `afterMs` are removed, but only by a node that sees a
   * majority of the cluster, so the minority side of a partition never hands out the other side's ranges.
   * Returns the members removed; 0 or less turns it off.
   */
  removeDeadAfter(afterMs: number): string[] {
    if (afterMs <= 0 || !this.majority().majority) return [];
    const now = this.monotonic();
    const removed: string[] = [];
    for (const member of this.list()) {
      if (member.nodeUrl === this.self || member.removed === true || member.state !== "dead" || now - member.advancedAtMs < afterMs) continue;
      if (this.remove(member.nodeUrl).ok) removed.push(member.nodeUrl);
    }
    return removed;
  }

  /**
   * Advances this node's own heartbeat: called once per gossip round. The heartbeat is the time since the
   * generation, so generation + heartbeat is this node's wall clock and peers can bound it by theirs; it
   * still rises by at least 1 when the wall clock steps back, so the news is always newer. When the clock steps
   * back from beyond the skew bound (it ran an hour ahead, and NTP set it right), heartbeats counted on from
   * there would stay beyond every peer's bound, refused, until real time caught up: this node would look dead
   * for that long. It takes a new generation from its clock instead, newer than all it said before.
   * A node started with its clock ahead has a generation from beyond the bound itself, which every peer refused: it
   * would stay out of its cluster until real time caught up. Once its peers' clocks read its own as right (so it is
   * not its clock that stepped back wrongly), it takes a generation from its clock too, though an older one: only a
   * peer whose clock ran as far ahead can have taken the old one.
   */
  beat(): void {
    const own = this.own;
    const now = this.clock();
    const steppedBack = own.generation + own.heartbeat > now + this.future.maxSkewMs && now > own.generation;
    if (steppedBack || (own.generation > now + this.future.maxSkewMs && this.startedAhead())) {
      this.members.set(this.self, { ...own, generation: now, heartbeat: 0, advancedAtMs: this.monotonic() });
    } else {
      this.members.set(this.self, { ...own, heartbeat: Math.max(own.heartbeat + 1, now - own.generation), advancedAtMs: this.monotonic() });
    }
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
   * Digests of every member, dead ones too: a dead member keeps its ranges, so a node that joins or restarts
   * while it is down must still place it in its ring (see unanswered), and a removal must reach every node.
   * That a member is dead is local knowledge and does not travel; its last news does.
   */
  digests(): Digest[] {
    return this.list().map(toDigest);
  }

  entries(nodeUrls: readonly string[]): Entry[] {
    return nodeUrls.flatMap((url) => {
      const member = this.members.get(url);
      return member === undefined ? [] : [toEntry(member)];
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
      // Members never heard of are asked for only while they could be taken in, and only a few a message;
      // the removal of one never known here removes nothing.
      if (digest.removed === true || this.candidates.has(digest.nodeUrl) || unknown >= NEW_MEMBERS_PER_MESSAGE_MAX || !this.candidates.room) continue;
      requests.push(digest.nodeUrl);
      unknown++;
    }
    const missing = [...this.members.keys()].filter((url) => !named.has(url));
    // Dead members included: a sender held dead here under newer news than its own (restarted after its clock
    // went back) hears of that old self and outlives it, and a newcomer learns of members that are down.
    return { entries: this.entries([...newerHere, ...missing]), requests };
  }

  /**
   * Merges entries heard through gossip (an ACK or ACK2). Newer news of a member (re)activates it at once.
   * A member not known yet joins only if it is `confirmed`, the node whose answer to this node's own SYN
   * this is; any other waits as unconfirmed, a few per message, until this node has gossiped with it.
   */
  learn(entries: readonly Entry[], confirmed?: string): MembershipChange[] {
    const now = this.monotonic();
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
    // With this node, a majority of the cluster's members must read its clock as right to clear a step of it.
    return this.clockCheck.reading((peer) => this.countsClockOf(peer), Math.floor(this.majority().members / 2));
  }

  /**
   * The peers' clocks as of the last detector run or health check, against this node's wall clock as it reads now
   * (a step of it shows at once): what a write and a record from a peer are checked against, at two clock reads.
   */
  lastClockReading(): ClockReading {
    return this.clockCheck.current();
  }

  /** How far this node's own wall clock has stepped since its peers' clocks last read it right (ClockCheck.ownStepMs). */
  clockStepMs(): number {
    return this.clockCheck.ownStepMs();
  }

  /** Whether this node's clock, its own generation beyond its bound, now reads right by its peers' (one or more). */
  private startedAhead(): boolean {
    const reading = this.clockCheck.current();
    return reading.peers > 0 && reading.status === "ok";
  }

  /** A confirmed member that is not dead, or a seed not held dead: the peers whose clocks the clock check hears. */
  private countsClockOf(peer: string): boolean {
    if (peer === this.self) return false;
    const member = this.members.get(peer);
    return member === undefined ? this.seeds.has(peer) : member.state !== "dead";
  }

  /** `admit` decides, per entry of a member not in the table, whether it joins now. */
  private merge(entries: readonly Entry[], admit: (entry: Entry) => boolean): MembershipChange[] {
    const now = this.monotonic();
    const changes: MembershipChange[] = [];
    for (const entry of entries) {
      if (entry.nodeUrl === this.self) {
        this.refute(entry);
        continue;
      }
      const local = this.members.get(entry.nodeUrl);
      if (local !== undefined && !isNewer(entry, local)) continue;
      if (entry.removed === true) {
        // A removal of a member never known here has nothing to remove; it is never taken in as a member.
        if (local === undefined) continue;
        this.members.set(entry.nodeUrl, { ...toEntry(entry), state: local.state, advancedAtMs: now });
        if (local.removed !== true) changes.push({ nodeUrl: entry.nodeUrl, from: local.state, to: "removed" });
        continue;
      }
      if (local === undefined && (this.members.size >= MEMBERS_MAX || !admit(entry))) continue;
      this.candidates.delete(entry.nodeUrl);
      this.members.set(entry.nodeUrl, { ...toEntry(entry), state: "active", advancedAtMs: now });
      // A member that starts or stops leaving, or returns after a removal, changes the ring as a join does.
      if (local?.state !== "active" || local.leaving !== entry.leaving || local.removed === true) {
        changes.push({ nodeUrl: entry.nodeUrl, from: local?.state ?? "unknown", to: "active" });
      }
    }
    this.emit(changes);
    return changes;
  }

  /**
   * The failure detector: members silent too long turn stale, then dead. Silence is measured on the monotonic
   * clock, and a gap since the last run longer than pauseAfterMs is this node's own pause, not its peers'
   * silence: the gap is excused, so a node that resumes hears from its peers before it judges them.
   */
  detect(): MembershipChange[] {
    const now = this.monotonic();
    const changes: MembershipChange[] = [];
    if (this.detectedAtMs !== undefined && now - this.detectedAtMs > this.pauseAfterMs) this.excuse(now - this.detectedAtMs);
    this.detectedAtMs = now;
    this.candidates.expire(now);
    for (const member of this.members.values()) {
      if (member.nodeUrl === this.self) continue;
      const silentMs = now - member.advancedAtMs;
      // Removed members are forgotten once their removal had time to spread, and members that left once they
      // went silent; a node that returns gossips itself under a new generation and joins again as new.
      if (member.removed === true || (member.leaving && member.state === "dead")) {
        if (silentMs >= FORGET_REMOVED_AFTER_MS) this.members.delete(member.nodeUrl);
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
    this.minoritySinceMs = this.majority().majority ? undefined : (this.minoritySinceMs ?? now);
    return changes;
  }

  /** How long (monotonic ms) the detector has found this node without a majority of its cluster; 0 while it has one. */
  minorityForMs(): number {
    return this.minoritySinceMs === undefined ? 0 : this.monotonic() - this.minoritySinceMs;
  }

  /** Adds `pausedMs` to every member's last advance: silence this node did not hear because it was not running. */
  excuse(pausedMs: number): void {
    const now = this.monotonic();
    for (const member of this.members.values()) {
      if (member.nodeUrl === this.self) continue;
      this.members.set(member.nodeUrl, { ...member, advancedAtMs: Math.min(now, member.advancedAtMs + pausedMs) });
    }
  }

  /**
   * Someone holds news of this node newer than its own: a forgery, or what an earlier process of this node
   * said before a restart with its wall clock set back. This node never believes it, and never takes a view
   * past its own clock to beat it either: peers bound its news by their clocks, and a view 1 ms past the edge
   * of theirs would have all its gossip refused. It keeps the highest such news and outlives it (outlive()).
   */
  private refute(news: Digest): void {
    if (!isNewer(news, this.own)) return;
    if (news.removed === true) {
      this.rejoin(news);
      return;
    }
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

  /**
   * This node was removed (held dead by a side of a partition that removed it, or by an operator) while it
   * ran: it takes a new generation, newer than the removal, and so joins again as new; data streams to it.
   */
  private rejoin(removal: Digest): void {
    const own = this.own;
    const generation = Math.max(this.clock(), removal.generation + 1);
    this.members.set(this.self, { ...own, generation, heartbeat: 0, advancedAtMs: this.monotonic() });
    this.outranked = undefined;
    this.emit([{ nodeUrl: this.self, from: "active", to: "active" }]);
  }

  private emit(changes: readonly MembershipChange[]): void {
    if (changes.length === 0) return;
    for (const listener of this.listeners) listener(changes);
  }
}

function severity(state: MemberState): number {
  return state === "active" ? 0 : state === "stale" ? 1 : 2;
}
