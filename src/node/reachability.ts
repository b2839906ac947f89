// Which peers answer this node's calls: a peer whose call failed (refused, cut off, timed out) is down for
// routing until a probe gets an answer from it, whatever gossip says. Gossip can call a peer alive that this
// node cannot reach (two halves of a partition bridged by one node hear each other's heartbeats through it);
// requests then skip it, as they skip a dead member, instead of each waiting out the forward timeout.
import { peerAnswered, type PeerCallListener } from "./peer-transport.ts";

/** A failed peer is first left alone this long before a probe; each failed probe doubles it. */
export const DOWN_FIRST_MS = 250;
/** The longest wait between probes of a peer that stays unreachable: a healed link is used again within it. */
export const DOWN_MAX_MS = 2_000;
/** Peers tracked at once (one entry per peer that failed lately); past it the oldest is forgotten. */
export const DOWN_ENTRIES_MAX = 1024;

interface Down {
  readonly sinceMs: number;
  untilMs: number;
  waitMs: number;
  probing: boolean;
}

export interface ReachabilityDeps {
  /** Monotonic ms. */
  readonly now: () => number;
  /** Asks the peer something cheap; true when it answered at all (any status), false when it did not. */
  readonly probe: (target: string) => Promise<boolean>;
  /** Told when a peer goes down for routing or comes back, for the log. */
  readonly onChange?: (target: string, down: boolean) => void;
}

export class Reachability {
  private readonly down = new Map<string, Down>();

  constructor(private readonly deps: ReachabilityDeps) {}

  /** A call to `target` failed: it is down for routing until a probe gets an answer. */
  failed(target: string): void {
    const entry = this.down.get(target);
    if (entry !== undefined) return;
    const now = this.deps.now();
    this.down.set(target, { sinceMs: now, untilMs: now + DOWN_FIRST_MS, waitMs: DOWN_FIRST_MS, probing: false });
    if (this.down.size > DOWN_ENTRIES_MAX) this.down.delete(this.down.keys().next().value!);
    this.deps.onChange?.(target, true);
  }

  /** Forgets `target` (a member removed or forgotten): nothing asks after it any more, so no probe would clear it. */
  forget(target: string): void {
    this.down.delete(target);
  }

  /** `target` answered a call: it is reachable. */
  answered(target: string): void {
    if (this.down.delete(target)) this.deps.onChange?.(target, false);
  }

  /**
   * Whether requests should skip `target`. Once its wait is over, a probe goes out (one at a time); the peer
   * stays down until the probe is answered, so no client request is the one that waits on it.
   */
  isDown(target: string): boolean {
    const entry = this.down.get(target);
    if (entry === undefined) return false;
    if (!entry.probing && this.deps.now() >= entry.untilMs) this.probe(target, entry);
    return true;
  }

  /** Peers down for routing now, with how long each has been. */
  downPeers(): { nodeUrl: string; forMs: number }[] {
    const now = this.deps.now();
    return [...this.down].map(([nodeUrl, entry]) => ({ nodeUrl, forMs: Math.round(now - entry.sinceMs) }));
  }

  private probe(target: string, entry: Down): void {
    entry.probing = true;
    void this.deps.probe(target).then(
      (ok) => {
        entry.probing = false;
        if (ok) {
          this.answered(target);
          return;
        }
        entry.waitMs = Math.min(DOWN_MAX_MS, entry.waitMs * 2);
        entry.untilMs = this.deps.now() + entry.waitMs;
      },
      () => {
        entry.probing = false;
        entry.untilMs = this.deps.now() + entry.waitMs;
      },
    );
  }
}

/**
 * A peer call listener (see peer-transport.ts) that tells `reachability` of every call's fate: an answer of any
 * kind (an error included) means the peer is reachable; a call that got none (refused, cut off, timed out) marks it
 * down. Gossip calls only ever count as answers: their short timeout misses under load, and a slow gossip answer
 * costs no client.
 */
export function observeReachability(reachability: Reachability): PeerCallListener {
  return (call) => (outcome) => {
    if (peerAnswered(outcome)) reachability.answered(call.target);
    else if (call.op !== "gossip") reachability.failed(call.target);
  };
}
