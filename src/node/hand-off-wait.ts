// How long a leaving node waits for its data to reach the nodes that keep it: for as long as the hand-off moves.
// A fixed bound would cut off a large node half-way (at about 37k records/s, 60 s hands off some 2M records),
// leaving the rest on a disk no ring reads from; a hand-off that stops moving is given up on.

/** A leave gives up once this long passes with no record handed off (see RebalanceProgress.delivered). */
export const LEAVE_STALL_MS = 60_000;
/** How often a leave looks at the hand-off's progress. */
export const LEAVE_PROGRESS_POLL_MS = 1_000;

export interface HandOffWaitOptions {
  /** Records handed off so far (a count that only grows). */
  readonly delivered: () => number;
  /** Monotonic ms. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly stallMs?: number;
  readonly pollMs?: number;
}

/**
 * What `settled` resolves to (true when it resolves to nothing); false once it rejects, or once `stallMs` passed with
 * `delivered` unchanged.
 */
export async function waitForHandOff(settled: Promise<boolean | void>, options: HandOffWaitOptions): Promise<boolean> {
  const stallMs = options.stallMs ?? LEAVE_STALL_MS;
  const pollMs = options.pollMs ?? LEAVE_PROGRESS_POLL_MS;
  let outcome: boolean | undefined;
  const finished = settled.then(
    (done) => void (outcome = done !== false),
    () => void (outcome = false),
  );
  let seen = options.delivered();
  let movedAtMs = options.now();
  for (;;) {
    await Promise.race([finished, options.sleep(pollMs)]);
    if (outcome !== undefined) return outcome;
    const now = options.now();
    const delivered = options.delivered();
    if (delivered !== seen) {
      seen = delivered;
      movedAtMs = now;
    } else if (now - movedAtMs >= stallMs) {
      return false;
    }
  }
}
