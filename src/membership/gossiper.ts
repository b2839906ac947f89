// Runs gossip rounds (SYN -> ACK -> ACK2) over an injected transport and answers the other side of them.
import type { MemberTable } from "./member-table.ts";
import type { Ack, Ack2, GossipTransport, Syn } from "./messages.ts";

/** Every this many rounds a dead member is probed, so a node that returns without seeds is found again. */
export const DEAD_PROBE_EVERY_ROUNDS = 5;

/** Live peers contacted per round. */
export const GOSSIP_FANOUT = 2;

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

  /** One round: beat, age the table, and gossip with a live member, a missing seed and now and then a dead one. */
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
      // A transport that throws loses that exchange only; the round and the others go on.
      await Promise.all([...targets].map((target) => this.exchange(target).catch(() => undefined)));
    } finally {
      this.running = false;
    }
  }

  /** The receiving side of a SYN. */
  answerSyn(syn: Syn): Ack {
    const { entries, requests } = this.options.table.reconcile(syn.digests, syn.from);
    return { type: "ack", from: this.options.table.self, entries, requests };
  }

  /** The receiving side of an ACK2. */
  acceptAck2(ack2: Ack2): void {
    this.options.table.apply(ack2.entries);
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
    const ack = await transport.syn(target, { type: "syn", from: table.self, digests: table.digests() });
    if (ack === undefined) return;
    table.apply(ack.entries);
    if (ack.requests.length === 0) return;
    await transport.ack2(target, { type: "ack2", from: table.self, entries: table.entries(ack.requests) });
  }
}
