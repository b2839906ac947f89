// Runs gossip rounds (SYN -> ACK -> ACK2) over an injected transport and answers the other side of them.
import type { Digest } from "./member.ts";
import type { MemberTable } from "./member-table.ts";
import type { Ack, Ack2, Answered, GossipTransport, Syn } from "./messages.ts";
import { pickDistinct } from "./pick-distinct.ts";

/**
 * Every this many rounds a dead member is probed, so a node that returns without seeds is found again. Every
 * round: a dead member is a member of the ring until it is removed, and a side of a healed partition must
 * find the other within a round or two, not five (a probe costs one gossip timeout at most).
 */
export const DEAD_PROBE_EVERY_ROUNDS = 1;

/** Live peers contacted per round. */
export const GOSSIP_FANOUT = 2;

/**
 * Unconfirmed members probed per round, beside the usual targets, oldest first. A real joiner answers
 * its first probe, so it is confirmed within a round or two; a new node confirms the members its seed
 * told it of at this pace. Two rather than one halves both, and bounds what a flood of invented URLs
 * can make this node send to two requests a round.
 */
export const UNCONFIRMED_PROBES_PER_ROUND = 2;

export interface GossiperOptions {
  readonly table: MemberTable;
  readonly transport: GossipTransport;
  /** NODE_PEERS: retried while they are not live members, so early starts and healed partitions join. */
  readonly seeds: readonly string[];
  /** Injected so tests can replay a choice of targets; main passes Math.random. */
  readonly random: () => number;
  /**
   * REMOVE_DEAD_AFTER_MS: members dead this long are removed by a node that sees a majority (see
   * MemberTable.removeDeadAfter); 0 or left out, only an operator removes. Told of each removal.
   */
  readonly removeDeadAfterMs?: number;
  readonly onRemoved?: (nodeUrls: readonly string[]) => void;
}

export class Gossiper {
  private rounds = 0;
  private running: Promise<void> | undefined;
  private timer: Timer | undefined;
  private readonly seeds: readonly string[];

  constructor(private readonly options: GossiperOptions) {
    this.seeds = options.seeds.filter((seed) => seed !== options.table.self);
  }

  get roundCount(): number {
    return this.rounds;
  }

  /**
   * One round: beat, age the table, and gossip with live members, a missing seed, a few unconfirmed ones and now
   * and then a dead one. Rounds never overlap: a call while one runs returns that round.
   */
  round(): Promise<void> {
    this.running ??= this.runRound().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * A round begun after this call: waits for one that is running (it may hold a view from before a pause,
   * its exchanges sent then), then runs a new one. What a node resuming from a pause refreshes its view with.
   */
  async freshRound(): Promise<void> {
    await this.running;
    await this.round();
  }

  private async runRound(): Promise<void> {
    const { table } = this.options;
    this.rounds++;
    table.beat();
    table.detect();
    const removed = table.removeDeadAfter(this.options.removeDeadAfterMs ?? 0);
    if (removed.length > 0) this.options.onRemoved?.(removed);
    const targets = new Set<string>();
    const live = table.list().filter((m) => m.state !== "dead" && m.removed !== true && m.nodeUrl !== table.self);
    // Nothing to pick draws no random number, so a replayed sequence of choices does not depend on empty lists.
    const pick = <T>(items: readonly T[]): T | undefined => (items.length === 0 ? undefined : items[Math.floor(this.options.random() * items.length)]);
    // Several live peers a round: with one, a healthy member of a cluster of 8 or more is falsely
    // suspected in a few percent of rounds, since news of its heartbeat reaches others by chance.
    for (const peer of pickDistinct(live, GOSSIP_FANOUT, this.options.random)) targets.add(peer.nodeUrl);
    const missingSeed = pick(this.seeds.filter((seed) => table.get(seed)?.state !== "active"));
    if (missingSeed !== undefined) targets.add(missingSeed);
    if (this.rounds % DEAD_PROBE_EVERY_ROUNDS === 0) {
      const dead = pick(table.list().filter((m) => m.state === "dead" && m.removed !== true));
      if (dead !== undefined) targets.add(dead.nodeUrl);
    }
    const unconfirmed = table.unconfirmedUrls().filter((url) => !targets.has(url));
    for (const url of unconfirmed.slice(0, UNCONFIRMED_PROBES_PER_ROUND)) targets.add(url);
    // A transport that throws loses that exchange only; the round and the others go on.
    await Promise.all([...targets].map((target) => this.exchange(target).catch(() => undefined)));
  }

  /**
   * The receiving side of a SYN. Digests from beyond the clock bound are left out; one of its sender's own
   * refuses it whole, so a sender whose clock runs ahead learns so from the refusal.
   */
  answerSyn(syn: Syn): Answered<Ack> {
    const { table } = this.options;
    this.observeSender(syn.from, syn.digests);
    const present = table.present(syn.digests, syn.from);
    if (!present.ok) return present;
    // The answer then carries this node's time as of now, for the asker's clock check.
    table.refresh();
    const { entries, requests } = table.reconcile(present.kept, syn.from);
    return { ok: true, answer: { type: "ack", from: table.self, entries, requests } };
  }

  /** The receiving side of an ACK2, held to the clock bound as a SYN is; it can only ever introduce unconfirmed members. */
  acceptAck2(ack2: Ack2): Answered<{ type: "done" }> {
    const { table } = this.options;
    this.observeSender(ack2.from, ack2.entries);
    const present = table.present(ack2.entries, ack2.from);
    if (!present.ok) return present;
    table.learn(present.kept);
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
    // Only an answer from the target in its own name confirms it. An unconfirmed one that answers in another's
    // name is forgotten, after its answer was taken in, so that answer cannot bring it straight back; one that
    // gives no answer is taken in as dead when a member named it to this node (see MemberTable.unanswered).
    if (ack === undefined) table.unanswered(target);
    else if (ack.from !== target) table.forgetUnconfirmed(target);
    if (ack === undefined || !accepted || ack.requests.length === 0) return;
    await transport.ack2(target, { type: "ack2", from: table.self, entries: table.entries(ack.requests) });
  }

  /**
   * Takes in an ACK to this node's SYN to `target`, less its entries from beyond the clock bound; one whose
   * sender's own entry is from beyond it is ignored whole, and false is returned.
   */
  private acceptAck(target: string, ack: Ack, sentAtMs: number): boolean {
    const { table } = this.options;
    const direct = ack.from === target;
    // Read before the bound below: a peer far ahead is exactly what the clock check must hear of.
    const wallMs = direct ? ownWallMs(target, ack.entries) : undefined;
    if (wallMs !== undefined) table.observeClock(target, wallMs, sentAtMs);
    const present = table.present(ack.entries, ack.from);
    if (!present.ok) return false;
    table.learn(present.kept, direct ? target : undefined);
    return true;
  }

  /**
   * A SYN's or ACK2's sender's own wall time, for the clock check; the table hears it only of confirmed members
   * and seeds. Without CLUSTER_SECRET `from` is whatever the sender wrote: anyone who can reach this node can
   * speak in a member's name and replace that member's estimate until its next real message; what no one can
   * do is add estimates under URLs this node has not confirmed. The check never makes this node take or refuse a
   * record or a message (see clock-check.ts).
   */
  private observeSender(from: string, digests: readonly Digest[]): void {
    const wallMs = ownWallMs(from, digests);
    if (wallMs !== undefined) this.options.table.observeClock(from, wallMs);
  }
}

/** The wall time a member's own digest says it had when it sent it (generation + heartbeat), if it names itself. */
function ownWallMs(nodeUrl: string, digests: readonly Digest[]): number | undefined {
  const own = digests.find((digest) => digest.nodeUrl === nodeUrl);
  return own === undefined ? undefined : own.generation + own.heartbeat;
}
