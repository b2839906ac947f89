// Hybrid logical clock: versions that follow wall time yet always move forward on this node.
import { compareVersions, type Version } from "../store/record.ts";

/**
 * The counter's ceiling: far below 2^53, so a version's parts stay exact integers everywhere they travel,
 * and far above what one node issues within a millisecond. Past it the wall part moves on by one instead.
 */
export const HLC_COUNTER_MAX = 0xffff_ffff;

export class HybridClock {
  private last: Version;
  /** The newest version this clock issued while its wall clock lay within the bound, or observed: where it goes on from once back within it. */
  private withinBound: Version;

  /**
   * `limitMs` is the latest wall time this clock will take from elsewhere (now + MAX_CLOCK_SKEW_MS); a
   * version beyond it, however it got this far, never moves the clock. Tests may leave it unbounded.
   * `issueLimitMs` is the latest wall time its peers' clocks allow it to issue (limitMs when left out): a wall
   * clock past it is a step of this node's own clock, and what the clock issues then is not gone on from after it.
   */
  constructor(
    private readonly nodeUrl: string,
    private readonly now: () => number = Date.now,
    private readonly limitMs: () => number = () => Number.POSITIVE_INFINITY,
    private readonly issueLimitMs: () => number = limitMs,
  ) {
    this.last = { wallMs: 0, counter: 0, node: nodeUrl };
    this.withinBound = this.last;
  }

  /**
   * A version newer than every version this clock has issued or observed, but for one case: versions it issued
   * beyond the bound (its wall clock ahead of its peers' past the skew, as the node knew) are not carried on once the
   * wall clock is back within it, since every replica refused them as from the future and would go on refusing
   * the next ones for as long as the step was. It goes on from the newest version issued or observed within the
   * bound instead, so a version the peers took is never issued again or passed by a lower one.
   */
  tick(): Version {
    const wall = this.now();
    const limit = this.issueLimitMs();
    if (this.last.wallMs > limit && wall <= limit) this.last = this.withinBound;
    if (wall > this.last.wallMs) this.last = { wallMs: wall, counter: 0, node: this.nodeUrl };
    else if (this.last.counter < HLC_COUNTER_MAX) this.last = { wallMs: this.last.wallMs, counter: this.last.counter + 1, node: this.nodeUrl };
    // The counter is spent: roll the wall part forward rather than overflow (a millisecond ahead, at worst).
    else this.last = { wallMs: this.last.wallMs + 1, counter: 0, node: this.nodeUrl };
    // Issued from a wall clock within the bound: the line the clock goes on from (a version past the bound only for
    // the versions it already passes, as after a step back, is still on that line).
    if (wall <= limit) this.withinBound = this.last;
    return this.last;
  }

  /**
   * A version newer than every version this clock has issued or observed and than `floor` too. A floor
   * beyond the skew bound (a key this node wrote before its wall clock stepped back) is passed for this
   * one version only: the clock itself never moves there, so the node's other writes stay on its clock.
   */
  tickAfter(floor: Version | undefined): Version {
    const next = this.tick();
    if (floor === undefined || compareVersions(next, floor) > 0) return next;
    return floor.counter < HLC_COUNTER_MAX
      ? { wallMs: floor.wallMs, counter: floor.counter + 1, node: this.nodeUrl }
      : { wallMs: floor.wallMs + 1, counter: 0, node: this.nodeUrl };
  }

  /**
   * Moves the clock past a version seen from elsewhere (a replica, a record read back). A version from
   * beyond the skew bound, or with a counter past the ceiling, is ignored: false tells the caller so.
   */
  observe(version: Version): boolean {
    if (version.wallMs > this.limitMs() || version.counter > HLC_COUNTER_MAX) return false;
    // Within the bound (checked above): the clock goes on from it even once it is back from beyond the bound.
    if (laterThan(version, this.withinBound)) this.withinBound = { wallMs: version.wallMs, counter: version.counter, node: this.nodeUrl };
    if (laterThan(version, this.last)) this.last = { wallMs: version.wallMs, counter: version.counter, node: this.nodeUrl };
    return true;
  }
}

/** Whether `a` is later than `b` by wall time and counter (this clock's versions all name this node). */
function laterThan(a: Version, b: Version): boolean {
  return a.wallMs > b.wallMs || (a.wallMs === b.wallMs && a.counter > b.counter);
}
