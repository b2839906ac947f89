// This node's clock against its peers': every gossip message carries its sender's own wall time (generation +
// heartbeat), an estimate of how far that peer's clock is from this one. The median of them tells whether it is
// this node's clock that is off: one bad clock among three or more peers cannot move it. The member table lets in
// estimates of confirmed members and seeds only, so invented URLs add none; without CLUSTER_SECRET a message can
// still be forged in a member's name, and forgeries in most members' names move the median. Hence all it can make
// a node do is coordinate no write while its clock reads off, and keep its hybrid clock from going on from versions
// issued while it read ahead; it never makes a node take or refuse a record or a message.
// Estimates are kept against the monotonic clock: when this node's own wall clock steps, every estimate moves with
// it at once (the next write or record judged sees the step), and none lives longer or shorter for the step.

export type ClockStatus = "ok" | "ahead" | "behind";

export interface ClockReading {
  readonly status: ClockStatus;
  /** How far this node's clock runs ahead of its peers' median (negative: behind); 0 when no peer counts. */
  readonly offsetMs: number;
  /** Peers whose estimate counted. */
  readonly peers: number;
}

export interface ClockCheckOptions {
  /** MAX_CLOCK_SKEW_MS: an offset within it is "ok". */
  readonly maxSkewMs: number;
  /** Local wall clock in ms since the epoch, the one generations and heartbeats come from. */
  readonly clock: () => number;
  /** Local monotonic clock in ms; the wall clock when left out (its steps then go unseen until peers are heard again). */
  readonly monotonic?: () => number;
  /** An estimate older than this no longer counts: its peer has not been heard from lately. */
  readonly estimateLifetimeMs: number;
  /** Estimates kept at most (one per peer); the oldest goes first. */
  readonly estimatesMax: number;
  /**
   * How long the last reading's peers stand, in ms, once no peer counts: a node whose clock jumps far ahead soon
   * holds its peers dead (they refuse its gossip), and must not then read its clock as right for want of them.
   */
  readonly medianKeptMs: number;
  /** Told when the status changes, so main logs entering and leaving a bad state once each. */
  readonly onChange?: (reading: ClockReading) => void;
}

interface Estimate {
  /** The peer's wall clock minus this node's monotonic clock, in ms: unmoved by steps of this node's wall clock. */
  readonly aheadOfMonotonicMs: number;
  /** When it was read, on the monotonic clock. */
  readonly atMs: number;
}

export class ClockCheck {
  private readonly estimates = new Map<string, Estimate>();
  private status: ClockStatus = "ok";
  /** The last reading's median peer against the monotonic clock, how many peers counted, and when (monotonic); none before any did. */
  private median: { readonly aheadOfMonotonicMs: number; readonly peers: number; readonly atMs: number } | undefined;
  /** This node's wall clock less its monotonic clock when a reading last found it right by its peers'; none before. */
  private rightWallAheadOfMonotonicMs: number | undefined;

  constructor(private readonly options: ClockCheckOptions) {}

  /**
   * Records `peer`'s wall time as read from a message. With `sentAtMs` (an answer to this node's own
   * request; wall clock) the local time it is compared with is the middle of the round trip.
   */
  observe(peer: string, peerWallMs: number, sentAtMs?: number): void {
    const now = this.options.clock();
    const monotonic = this.monotonic();
    const localMs = sentAtMs === undefined ? now : (sentAtMs + now) / 2;
    // Deleted first so the map stays in the order peers were last heard, and the oldest is dropped at the bound.
    this.estimates.delete(peer);
    this.estimates.set(peer, { aheadOfMonotonicMs: Math.round(peerWallMs - localMs + (now - monotonic)), atMs: monotonic });
    if (this.estimates.size > this.options.estimatesMax) this.estimates.delete(this.estimates.keys().next().value!);
  }

  /**
   * The status now, over the fresh estimates of peers that `counts` (live ones); tells onChange of a change. A reading
   * that finds this clock right sets where ownStepMs counts from only when `peersForRight` of those peers or more each
   * read it within the skew (a majority of the cluster with this node): two clocks that stepped together, holding the
   * others dead or hearing one of them, read each other as right, and must not clear their step that way.
   */
  reading(counts: (peer: string) => boolean, peersForRight = 1): ClockReading {
    const monotonic = this.monotonic();
    const wallAheadOfMonotonicMs = this.options.clock() - monotonic;
    const offsets: number[] = [];
    for (const [peer, estimate] of this.estimates) {
      if (monotonic - estimate.atMs < this.options.estimateLifetimeMs && counts(peer)) offsets.push(estimate.aheadOfMonotonicMs - wallAheadOfMonotonicMs);
    }
    if (offsets.length > 0) this.median = { aheadOfMonotonicMs: medianNearZero(offsets) + wallAheadOfMonotonicMs, peers: offsets.length, atMs: monotonic };
    else if (this.median !== undefined && monotonic - this.median.atMs >= this.options.medianKeptMs) this.median = undefined;
    const reading = this.current();
    // Counted one by one, not from the median: of an even count the median leans to "ok", so a peer that stepped with
    // this clock and one that did not would read it right between them.
    const readingItRight = offsets.reduce((count, offset) => (Math.abs(offset) <= this.options.maxSkewMs ? count + 1 : count), 0);
    if (reading.status === "ok" && readingItRight >= Math.max(1, peersForRight)) this.rightWallAheadOfMonotonicMs = wallAheadOfMonotonicMs;
    if (reading.status !== this.status) {
      this.status = reading.status;
      this.options.onChange?.(reading);
    }
    return reading;
  }

  /**
   * The last reading's peers against this node's wall clock as it reads now: a step of this clock since shows at
   * once (two clock reads, no estimate looked at again). Tells no one of a change; `reading` does.
   */
  current(): ClockReading {
    if (this.median === undefined) return { status: "ok", offsetMs: 0, peers: 0 };
    // Subtracted from 0 rather than negated, so "no offset" is 0 and never -0.
    const offsetMs = 0 - Math.round(this.median.aheadOfMonotonicMs - (this.options.clock() - this.monotonic()));
    const status: ClockStatus = offsetMs > this.options.maxSkewMs ? "ahead" : offsetMs < -this.options.maxSkewMs ? "behind" : "ok";
    return { status, offsetMs, peers: this.median.peers };
  }

  /**
   * How far this node's own wall clock has stepped since a reading of enough peers last found it right (ms; positive:
   * ahead), 0 before any did. Exact, unlike an offset: it compares the wall clock with the monotonic one, and no peer's estimate is in
   * it, so a step needs no time to tell it from a moment's noise (NTP's slewing moves it by 0.5 ms a second at most).
   */
  ownStepMs(): number {
    if (this.rightWallAheadOfMonotonicMs === undefined) return 0;
    return this.options.clock() - this.monotonic() - this.rightWallAheadOfMonotonicMs;
  }

  private monotonic(): number {
    return (this.options.monotonic ?? this.options.clock)();
  }
}

/** The median; of an even count's two middle values the one nearer zero, so a tie never blames this clock. */
export function medianNearZero(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const upper = sorted[sorted.length >> 1]!;
  if (sorted.length % 2 === 1) return upper;
  const lower = sorted[(sorted.length >> 1) - 1]!;
  return Math.abs(lower) <= Math.abs(upper) ? lower : upper;
}
