// Which peer anti-entropy compares with next: every live peer once per cycle, in a shuffled order; before them, a
// peer that has just come back (from a partition, a pause, a crash), and one whose exchange left records from the
// future unmoved, once their time has come.
//
// Drawn at random each round, a given pair of replicas could go several intervals without an exchange (with five
// nodes, a one-in-five chance of none in 30 s at the default 10 s interval), and a key left apart by a fault stayed
// apart that long after it healed. In cycles, each peer is compared with once per cycle, so at most 2 × peers − 1
// rounds apart, and a cycle never starts with the peer the last round compared with. A peer back from being
// down holds what the cluster wrote without it, so it goes first, and keeps its turn in the cycle as well (an exchange
// right after a return may fail). Records a replica refuses as from beyond MAX_CLOCK_SKEW_MS (written while a clock
// ran ahead) move as soon as it takes them.
import { MEMBERS_MAX } from "../membership/member-table.ts";
import { pickDistinct } from "../membership/pick-distinct.ts";

/** Peers remembered (as ever up, as due at a time, as last compared at a time): the member table's bound. */
export const REMEMBERED_PEERS_MAX = MEMBERS_MAX;
/**
 * A peer that comes back within this long of its last comparison, in ms, is not put first: a failure detector
 * flapping under load must not multiply rounds (each sums the digests of every shared range). The default
 * anti-entropy interval: such a peer waits no longer than a round it would have had anyway.
 */
export const RETURN_SPACING_MS = 10_000;

export class PeerRotation {
  /** What is left of the current cycle, next last. */
  private cycle: string[] = [];
  /** Peers to compare with before the cycle, first come first compared: back from being down, or their time came. */
  private first: string[] = [];
  /** Peers to compare with again at a time (monotonic ms): their last exchange left records from the future. */
  private readonly later = new Map<string, number>();
  /** When each peer was last compared with (monotonic ms), oldest first. */
  private readonly compared = new Map<string, number>();
  /** The peers up at the last look; undefined before the first. */
  private up: ReadonlySet<string> | undefined;
  /** Peers ever seen up, longest unseen first. */
  private readonly known = new Map<string, true>();
  private last: string | undefined;

  constructor(private readonly random: () => number) {}

  /**
   * Looks at the live peers at `nowMs` (monotonic): one that was not up at the last look but was up before it has
   * come back. A peer never seen up (a node joining) has not: rebalancing brings it its data.
   */
  look(peers: readonly string[], nowMs: number): void {
    const before = this.up;
    for (const peer of peers) {
      const back = before !== undefined && !before.has(peer) && this.known.has(peer);
      if (back && !(nowMs - (this.compared.get(peer) ?? Number.NEGATIVE_INFINITY) < RETURN_SPACING_MS)) this.putFirst(peer);
      remember(this.known, peer, true);
    }
    this.up = new Set(peers);
    for (const [peer, atMs] of this.later) {
      if (atMs > nowMs) continue;
      this.later.delete(peer);
      this.putFirst(peer);
    }
  }

  /** Compare with `peer` again once `atMs` (monotonic) has come, at the first look after it. */
  again(peer: string, atMs: number): void {
    remember(this.later, peer, atMs);
  }

  /** Whether a peer is waiting to be compared with before the cycle. */
  get due(): boolean {
    return this.first.length > 0;
  }

  /** The peer to compare with at `nowMs`, out of the live `peers`: one waiting first, else the next of the cycle. */
  next(peers: readonly string[], nowMs: number): string | undefined {
    const peer = this.choose(peers);
    if (peer !== undefined) {
      remember(this.compared, peer, nowMs);
      this.last = peer;
    }
    return peer;
  }

  private choose(peers: readonly string[]): string | undefined {
    const live = new Set(peers);
    this.first = this.first.filter((peer) => live.has(peer));
    const first = this.first.shift();
    if (first !== undefined) return first;
    for (;;) {
      const peer = this.cycle.pop();
      if (peer === undefined) break;
      if (live.has(peer)) return peer;
    }
    this.cycle = pickDistinct(peers, peers.length, this.random);
    // A new cycle does not start with the peer just compared with (the cycle's next is its last element).
    if (this.cycle.length > 1 && this.cycle.at(-1) === this.last) [this.cycle[0], this.cycle[this.cycle.length - 1]] = [this.cycle.at(-1)!, this.cycle[0]!];
    return this.cycle.pop();
  }

  private putFirst(peer: string): void {
    if (!this.first.includes(peer)) this.first.push(peer);
  }
}

/** Sets `peer` to `value` as the newest entry, dropping the oldest past REMEMBERED_PEERS_MAX. */
function remember<V>(entries: Map<string, V>, peer: string, value: V): void {
  entries.delete(peer);
  entries.set(peer, value);
  if (entries.size > REMEMBERED_PEERS_MAX) entries.delete(entries.keys().next().value!);
}
