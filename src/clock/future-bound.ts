// The bound on time from the future: a wall time a peer sends (a record version, a gossip generation or
// heartbeat) that lies beyond this node's now + MAX_CLOCK_SKEW_MS is refused and never moves a clock.

/** What carried the wall time, for /metrics and the log. */
export type FutureKind = "version" | "generation" | "heartbeat";

/**
 * CockroachDB's default maximum clock offset. Nodes on one machine share a clock and NTP keeps
 * machines within a few milliseconds of each other, so 500 ms refuses only a clock that is plainly
 * wrong, or a forgery; it also bounds how far one bad clock can drag every version in the cluster.
 */
export const MAX_CLOCK_SKEW_MS_DEFAULT = 500;

export interface FutureBoundOptions {
  readonly maxSkewMs: number;
  /** Wall clock in ms since the epoch; main passes Date.now. */
  readonly clock: () => number;
  /** Told of every refusal: main counts it in /metrics and logs it at most once a minute. */
  readonly onRefused?: (kind: FutureKind, aheadMs: number) => void;
  /**
   * How far this node's own clock runs ahead of its peers' (the clock check's offset; 0 or negative when it does
   * not). Past the skew, the bound is judged by the peers' clock instead, with the skew's slack. The hybrid clock's
   * bound on what it issues uses it; a bound on what a node takes must not (see assemble.ts). An estimate off by
   * less than the skew changes nothing.
   */
  readonly clockAheadMs?: () => number;
}

export class FutureBound {
  constructor(private readonly options: FutureBoundOptions) {}

  get maxSkewMs(): number {
    return this.options.maxSkewMs;
  }

  /** The latest wall time accepted right now. */
  limitMs(): number {
    return this.now() + this.options.maxSkewMs;
  }

  /** True when `wallMs` is acceptable; otherwise reports the refusal and returns false. */
  accepts(kind: FutureKind, wallMs: number): boolean {
    const now = this.now();
    if (wallMs <= now + this.options.maxSkewMs) return true;
    this.options.onRefused?.(kind, wallMs - now);
    return false;
  }

  /** The time judged by: this node's clock, less how far it is known to run ahead of its peers' beyond the skew. */
  private now(): number {
    const clock = this.options.clock();
    const ahead = this.options.clockAheadMs?.() ?? 0;
    return ahead > this.options.maxSkewMs ? clock - (ahead - this.options.maxSkewMs) : clock;
  }
}

/** A bound that accepts everything: for unit tests of modules whose clocks are not the point. */
export const NO_FUTURE_BOUND = new FutureBound({ maxSkewMs: Number.POSITIVE_INFINITY, clock: () => 0 });
