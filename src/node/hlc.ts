// Hybrid logical clock: versions that follow wall time yet always move forward on this node.
import type { Version } from "../store/record.ts";

export class HybridClock {
  private last: Version;

  constructor(
    private readonly nodeUrl: string,
    private readonly now: () => number = Date.now,
  ) {
    this.last = { wallMs: 0, counter: 0, node: nodeUrl };
  }

  /** A version newer than every version this clock has issued or observed. */
  tick(): Version {
    const wall = this.now();
    this.last =
      wall > this.last.wallMs
        ? { wallMs: wall, counter: 0, node: this.nodeUrl }
        : { wallMs: this.last.wallMs, counter: this.last.counter + 1, node: this.nodeUrl };
    return this.last;
  }

  /** Moves the clock past a version seen from elsewhere (a replica, a record read back at start). */
  observe(version: Version): void {
    if (version.wallMs > this.last.wallMs || (version.wallMs === this.last.wallMs && version.counter > this.last.counter)) {
      this.last = { wallMs: version.wallMs, counter: version.counter, node: this.nodeUrl };
    }
  }
}
