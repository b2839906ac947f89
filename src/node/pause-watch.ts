// Notices that this process was not running (SIGSTOP, a frozen VM, a loop blocked for long): a timer that
// ticks on the monotonic clock finds the gap. While the gap is open, and until gossip has refreshed the view
// held from before it, the node coordinates no request: the requests that queued up during the pause would
// otherwise be served on a view of the cluster as old as the pause.

/** How often the watch ticks; a pause is seen at most this late, and a tick costs one clock read. */
export const PAUSE_WATCH_TICK_MS = 100;

export interface PauseWatchDeps {
  /** Monotonic ms. */
  readonly now: () => number;
  /** A gap between ticks longer than this is a pause (main passes the stale time: shorter ones change no view). */
  readonly pauseAfterMs: number;
  /** Runs after a pause to refresh the view (main runs a gossip round); the node is fresh again once it settles. */
  readonly refresh: (pausedMs: number) => Promise<void>;
}

export class PauseWatch {
  private lastTickMs: number;
  private refreshing: Promise<void> | undefined;
  private pausedMs = 0;
  private timer: Timer | undefined;

  constructor(private readonly deps: PauseWatchDeps) {
    this.lastTickMs = deps.now();
  }

  start(): void {
    this.stop();
    this.lastTickMs = this.deps.now();
    this.timer = setInterval(() => this.tick(), PAUSE_WATCH_TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Why this node must not coordinate now, or undefined: a request handled before the first tick after a pause
   * sees the gap itself, one handled later waits for the refresh that tick started.
   */
  refusal(): string | undefined {
    const gapMs = this.deps.now() - this.lastTickMs;
    if (this.timer !== undefined && gapMs > this.deps.pauseAfterMs) this.tick();
    if (this.refreshing === undefined) return undefined;
    return `this node was paused for ${Math.round(this.pausedMs)} ms and is refreshing its view of the cluster; retry shortly`;
  }

  /** Checks the gap since the last tick; a pause starts a refresh (one at a time). */
  tick(): void {
    const now = this.deps.now();
    const gapMs = now - this.lastTickMs;
    this.lastTickMs = now;
    if (gapMs <= this.deps.pauseAfterMs || this.refreshing !== undefined) return;
    this.pausedMs = gapMs;
    this.refreshing = this.deps
      .refresh(gapMs)
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = undefined;
      });
  }
}
