// This node's clock against its peers': every gossip message carries its sender's own wall time (generation +
// heartbeat), an estimate of how far that peer's clock is from this one. The median of them tells whether it is
// this node's clock that is off: one bad clock among three or more peers cannot move it. The member table lets in
// estimates of confirmed members and seeds only, so invented URLs add none; without CLUSTER_SECRET a message can
// still be forged in a member's name, and forgeries in most members' names move the median. Hence it only reports.

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
  /** An estimate older than this no longer counts: its peer has not been heard from lately. */
  readonly estimateLifetimeMs: number;
  /** Estimates kept at most (one per peer); the oldest goes first. */
  readonly estimatesMax: number;
  /** Told when the status changes, so main logs entering and leaving a bad state once each. */
  readonly onChange?: (reading: ClockReading) => void;
}

interface Estimate {
  /** The peer's clock minus this node's, in ms. */
  readonly offsetMs: number;
  readonly atMs: number;
}

export class ClockCheck {
  private readonly estimates = new Map<string, Estimate>();
  private status: ClockStatus = "ok";

  constructor(private readonly options: ClockCheckOptions) {}

  /**
   * Records `peer`'s wall time as read from a message. With `sentAtMs` (an answer to this node's own
   * request) the local time it is compared with is the middle of the round trip.
   */
  observe(peer: string, peerWallMs: number, sentAtMs?: number): void {
    const now = this.options.clock();
    const localMs = sentAtMs === undefined ? now : (sentAtMs + now) / 2;
    // Deleted first so the map stays in the order peers were last heard, and the oldest is dropped at the bound.
    this.estimates.delete(peer);
    this.estimates.set(peer, { offsetMs: Math.round(peerWallMs - localMs), atMs: now });
    if (this.estimates.size > this.options.estimatesMax) this.estimates.delete(this.estimates.keys().next().value!);
  }

  /** The status now, over the fresh estimates of peers that `counts` (live ones); tells onChange of a change. */
  reading(counts: (peer: string) => boolean): ClockReading {
    const now = this.options.clock();
    const offsets: number[] = [];
    for (const [peer, estimate] of this.estimates) {
      if (now - estimate.atMs < this.options.estimateLifetimeMs && counts(peer)) offsets.push(estimate.offsetMs);
    }
    // Subtracted from 0 rather than negated, so "no offset" is 0 and never -0.
    const offsetMs = offsets.length === 0 ? 0 : 0 - medianNearZero(offsets);
    const status: ClockStatus = offsetMs > this.options.maxSkewMs ? "ahead" : offsetMs < -this.options.maxSkewMs ? "behind" : "ok";
    const reading = { status, offsetMs, peers: offsets.length };
    if (status !== this.status) {
      this.status = status;
      this.options.onChange?.(reading);
    }
    return reading;
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
