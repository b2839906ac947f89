// Runs gossip rounds (SYN -> ACK -> ACK2) over an injected transport and answers the other side of them.
import type { Digest } from "./member.ts";
import type { MemberTable } from "./member-table.ts";
import type { Ack, Ack2, Answered, GossipTransport, Syn } from "./messages.ts";

/** Every this many rounds a dead member is probed, so a node that returns without seeds is found again. */
export const DEAD_PROBE_EVERY_ROUNDS = 5;

/** Live peers contacted per round. */
export const GOSSIP_FANOUT = 2;

/**
 * Unconfirmed members probed per round, beside the usual targets, oldest first. A real joiner answers
 * its first probe, so it is confirmed within a round or two; a new node confirms the members its seed
 * told it of at this pace. Two rather than one halves both, and bounds what a flood of invented URLs
 * can make this node send to two requests a round.
 */
export const UNCONFIRMED_PROBES_PER_ROUND = 2;

/** Up to `count` distinct items in random order: a partial Fisher-Yates shuffle. */
function pickDistinct<T>(items: readonly T[], count: number, random: () => number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) {
    const index = Math.floor(random() * pool.length);
    out.push(pool[index]!);
    pool.splice(index, 1);
  }
  return out;
}

export interface GossiperOptions {
  readonly table: MemberTable;
  readonly transport: GossipTransport;
  /** NODE_PEERS: retried while they are not live members, so early starts and healed partitions join. */
  readonly seeds: readonly string[];
  /** Injected so tests can replay a choice of targets; main passes Math.random. */
  readonly random: () => number;
}

export class Gossiper {
  private rounds = 0;
  private running = false;
  private timer: Timer | undefined;
  private readonly seeds: readonly string[];

  constructor(private readonly options: GossiperOptions) {
    this.seeds = options.seeds.filter((seed) => seed !== options.table.self);
  }

  get roundCount(): number {
    return this.rounds;
  }

  /** One round: beat, age the table, and gossip with live members, a missing seed, a few unconfirmed ones and now and then a dead one. */
  async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const { table } = this.options;
      this.rounds++;
      table.beat();
      table.detect();
      const targets = new Set<string>();
      const live = table.list().filter((m) => m.state !== "dead" && m.nodeUrl !== table.self);
      const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(this.options.random() * items.length)];
      // Several live peers a round: with one, a healthy member of a cluster of 8 or more is falsely
      // suspected in a few percent of rounds, since news of its heartbeat reaches others by chance.
      for (const peer of pickDistinct(live, GOSSIP_FANOUT, this.options.random)) targets.add(peer.nodeUrl);
      const missingSeed = pick(this.seeds.filter((seed) => table.get(seed)?.state !== "active"));
      if (missingSeed !== undefined) targets.add(missingSeed);
      if (this.rounds % DEAD_PROBE_EVERY_ROUNDS === 0) {
        const dead = pick(table.list().filter((m) => m.state === "dead"));
        if (dead !== undefined) targets.add(dead.nodeUrl);
      }
      const unconfirmed = table.unconfirmedUrls().filter((url) => !targets.has(url));
      for (const url of unconfirmed.slice(0, UNCONFIRMED_PROBES_PER_ROUND)) targets.add(url);
      // A transport that throws loses that exchange only; the round and the others go on.
      await Promise.all([...targets].map((target) => this.exchange(target).catch(() => undefined)));
    } finally {
      this.running = false;
    }
  }

  /** The receiving side of a SYN; one that names anything from beyond the clock bound is refused whole. */
  answerSyn(syn: Syn): Answered<Ack> {
    const { table } = this.options;
    this.observeKnownSender(syn.from, syn.digests);
    const refused = table.fromFuture(syn.digests);
    if (refused !== undefined) return { ok: false, refused };
    // The answer then carries this node's time as of now, for the asker's clock check.
    table.refresh();
    const { entries, requests } = table.reconcile(syn.digests, syn.from);
    return { ok: true, answer: { type: "ack", from: table.self, entries, requests } };
  }

  /** The receiving side of an ACK2; it can only ever introduce unconfirmed members. */
  acceptAck2(ack2: Ack2): Answered<{ type: "done" }> {
    const { table } = this.options;
    this.observeKnownSender(ack2.from, ack2.entries);
    const refused = table.fromFuture(ack2.entries);
    if (refused !== undefined) return { ok: false, refused };
    table.learn(ack2.entries);
    return { ok: true, answer: { type: "done" } };
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.round(), intervalMs);
    void this.round();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async exchange(target: string): Promise<void> {
    const { table, transport } = this.options;
    const sentAtMs = table.now();
    const ack = await transport.syn(target, { type: "syn", from: table.self, digests: table.digests() });
    const accepted = ack !== undefined && this.acceptAck(target, ack, sentAtMs);
    // Only an answer from the target in its own name confirms it; an unconfirmed one that gives none is
    // forgotten, after its answer was taken in, so that answer cannot bring it straight back.
    if (ack?.from !== target) table.forgetUnconfirmed(target);
    if (ack === undefined || !accepted || ack.requests.length === 0) return;
    await transport.ack2(target, { type: "ack2", from: table.self, entries: table.entries(ack.requests) });
  }

  /** Takes in an ACK to this node's SYN to `target`, unless it carries news from beyond the clock bound. */
  private acceptAck(target: string, ack: Ack, sentAtMs: number): boolean {
    const { table } = this.options;
    const direct = ack.from === target;
    // Read before the bound below: a peer far ahead is exactly what the clock check must hear of.
    const wallMs = direct ? ownWallMs(target, ack.entries) : undefined;
    if (wallMs !== undefined) table.observeClock(target, wallMs, sentAtMs);
    // An answer with news from beyond the clock bound is ignored whole, like any other garbage.
    if (table.fromFuture(ack.entries) !== undefined) return false;
    table.learn(ack.entries, direct ? target : undefined);
    return true;
  }

  /** A sender's own wall time, when it is a member or a seed: anyone can put any `from` on a SYN or ACK2. */
  private observeKnownSender(from: string, digests: readonly Digest[]): void {
    const { table } = this.options;
    if (from === table.self || (table.get(from) === undefined && !this.seeds.includes(from))) return;
    const wallMs = ownWallMs(from, digests);
    if (wallMs !== undefined) table.observeClock(from, wallMs);
  }
}

/** The wall time a member's own digest says it had when it sent it (generation + heartbeat), if it names itself. */
function ownWallMs(nodeUrl: string, digests: readonly Digest[]): number | undefined {
  const own = digests.find((digest) => digest.nodeUrl === nodeUrl);
  return own === undefined ? undefined : own.generation + own.heartbeat;
}
