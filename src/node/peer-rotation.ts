// Which peer anti-entropy compares with next: every live peer once per cycle, in a shuffled order; before them, a
// peer that has just come back (from a partition, a pause, a crash), and one whose exchange left records from the
// future unmoved, once their time has come.
//
// Drawn at random each round, a given pair of replicas could go several intervals without an exchange (with five
// nodes, a one-in-five chance of none in 30 s at the default 10 s interval), and a key left apart by a fault stayed
// apart that long after it healed. In cycles, every peer is compared with at least once per cycle (peers ×
// interval); a peer back from being down holds what the cluster wrote without it, so it goes first; and records a
// replica refuses as from beyond MAX_CLOCK_SKEW_MS (written while a clock ran ahead) are moved as soon as it takes them.
import { MEMBERS_MAX } from "../membership/member-table.ts";

/** Peers remembered as having been up, so one that comes back is told apart from one that joins: the member table's bound. */
export const REMEMBERED_PEERS_MAX = MEMBERS_MAX;

export class PeerRotation {
  /** What is left of the current cycle, next last. */
  private cycle: string[] = [];
  /** Peers to compare with before the cycle, first come first compared: back from being down, or their time came. */
  private first: string[] = [];
  /** Peers to compare with again at a time (monotonic ms): their last exchange left records from the future. */
  private readonly later = new Map<string, number>();
  /** The peers up at the last look; undefined before the first. */
  private up: ReadonlySet<string> | undefined;
  /** Peers ever seen up, oldest first (bounded by REMEMBERED_PEERS_MAX). */
  private readonly known = new Set<string>();

  constructor(private readonly random: () => number) {}

  /**
   * Looks at the live peers at `nowMs` (monotonic): one that was not up at the last look but was up before it has
   * come back. A peer never seen up (a node joining) is not: rebalancing brings it its data.
   */
  look(peers: readonly string[], nowMs: number): void {
    const before = this.up;
    for (const peer of peers) {
      if (before !== undefined && !before.has(peer) && this.known.has(peer)) this.putFirst(peer);
      this.remember(peer);
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
    this.later.delete(peer);
    this.later.set(peer, atMs);
    if (this.later.size > REMEMBERED_PEERS_MAX) this.later.delete(this.later.keys().next().value!);
  }

  /** Whether a peer is waiting to be compared with before the cycle. */
  get due(): boolean {
    return this.first.length > 0;
  }

  /** The peer to compare with now, out of the live `peers`: one waiting first, else the next of the cycle. */
  next(peers: readonly string[]): string | undefined {
    const live = new Set(peers);
    this.first = this.first.filter((peer) => live.has(peer));
    const back = this.first.shift();
    if (back !== undefined) {
      this.cycle = this.cycle.filter((peer) => peer !== back);
      return back;
    }
    for (;;) {
      const peer = this.cycle.pop();
      if (peer === undefined) break;
      if (live.has(peer)) return peer;
    }
    this.cycle = shuffled(peers, this.random);
    return this.cycle.pop();
  }

  private putFirst(peer: string): void {
    if (!this.first.includes(peer)) this.first.push(peer);
  }

  private remember(peer: string): void {
    this.known.delete(peer);
    this.known.add(peer);
    if (this.known.size > REMEMBERED_PEERS_MAX) this.known.delete(this.known.values().next().value!);
  }
}

/** Fisher–Yates. */
function shuffled(items: readonly string[], random: () => number): string[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
