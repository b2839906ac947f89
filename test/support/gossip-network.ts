// An in-process network of Gossipers for membership tests: a message is a direct call, any node can be
// taken down and any link cut, and one clock the test moves drives every failure detector.
import { FutureBound, MAX_CLOCK_SKEW_MS_DEFAULT } from "../../src/clock/future-bound.ts";
import { Gossiper } from "../../src/membership/gossiper.ts";
import { MemberTable, type FailureTiming, type MembershipChange } from "../../src/membership/member-table.ts";
import type { GossipTransport } from "../../src/membership/messages.ts";
import { shuffled } from "./seeded-random.ts";

/** The defaults of GOSSIP_INTERVAL_MS, GOSSIP_STALE_AFTER_MS and GOSSIP_DEAD_AFTER_MS. */
export const INTERVAL_MS = 1000;
export const DEFAULT_TIMING: FailureTiming = { staleAfterMs: 3000, deadAfterMs: 5000 };
/** Generations are start times; simulated nodes all start here unless a test says otherwise. */
export const START_MS = 1_700_000_000_000;

export function nodeUrl(index: number): string {
  return `http://127.0.0.${index + 1}:8484`;
}

export interface SimNode {
  readonly url: string;
  readonly table: MemberTable;
  readonly gossiper: Gossiper;
  /** Every change this node's table reported to its listeners, in order. */
  readonly changes: MembershipChange[];
}

export interface Traffic {
  /** SYNs and ACK2s delivered. */
  syn: number;
  ack2: number;
  /** Messages lost to a node that is down or a cut link. */
  dropped: number;
  /** SYNs sent to each target, delivered or not. */
  readonly synsTo: Map<string, number>;
}

export class GossipNetwork {
  private nowMs = START_MS;
  private readonly nodes = new Map<string, SimNode>();
  private readonly down = new Set<string>();
  private cut: (from: string, to: string) => boolean = () => false;
  readonly traffic: Traffic = { syn: 0, ack2: 0, dropped: 0, synsTo: new Map() };
  readonly clock = (): number => this.nowMs;

  constructor(
    private readonly random: () => number,
    private readonly timing: FailureTiming = DEFAULT_TIMING,
  ) {}

  /** Starts a node (or restarts one under a new generation, forgetting all it knew); all share one clock and its bound. */
  start(url: string, seeds: readonly string[], generation = this.nowMs): SimNode {
    const future = new FutureBound({ maxSkewMs: MAX_CLOCK_SKEW_MS_DEFAULT, clock: this.clock });
    const table = new MemberTable(url, generation, this.clock, this.timing, { future, seeds });
    const gossiper = new Gossiper({ table, transport: this.transportFrom(url), seeds, random: this.random });
    const node: SimNode = { url, table, gossiper, changes: [] };
    table.onChange((changes) => node.changes.push(...changes));
    this.nodes.set(url, node);
    this.down.delete(url);
    return node;
  }

  /** The node stops gossiping and nothing reaches it, as if its process had died. */
  stop(url: string): void {
    this.down.add(url);
  }

  /** Cuts every link between the groups; links inside a group keep working. */
  partition(groups: readonly (readonly string[])[]): void {
    const groupOf = new Map(groups.flatMap((group, i) => group.map((url) => [url, i] as const)));
    this.cut = (from, to) => groupOf.get(from) !== groupOf.get(to);
  }

  heal(): void {
    this.cut = () => false;
  }

  node(url: string): SimNode {
    const node = this.nodes.get(url);
    if (node === undefined) throw new Error(`no simulated node ${url}`);
    return node;
  }

  upUrls(): string[] {
    return [...this.nodes.keys()].filter((url) => !this.down.has(url));
  }

  /** One gossip interval: the clock moves on, then every running node runs its round, in a random order. */
  async round(): Promise<void> {
    this.nowMs += INTERVAL_MS;
    for (const url of shuffled(this.upUrls(), this.random)) await this.node(url).gossiper.round();
  }

  /** Runs rounds until the condition holds and returns how many it took, or undefined past roundsMax. */
  async roundsUntil(condition: () => boolean, roundsMax: number): Promise<number | undefined> {
    for (let rounds = 0; rounds <= roundsMax; rounds++) {
      if (condition()) return rounds;
      if (rounds < roundsMax) await this.round();
    }
    return undefined;
  }

  async rounds(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.round();
  }

  /** A node's table as comparable text: who, which generation, in what state (heartbeats always differ). */
  view(url: string): string[] {
    return this.node(url).table.list().map((m) => `${m.nodeUrl} g${m.generation} ${m.state}`);
  }

  private reachable(from: string, to: string): boolean {
    const ok = this.nodes.has(to) && !this.down.has(to) && !this.down.has(from) && !this.cut(from, to);
    if (!ok) this.traffic.dropped++;
    return ok;
  }

  /** Messages go through JSON as on the wire, so no side can hold on to the other's objects. */
  private transportFrom(from: string): GossipTransport {
    return {
      syn: async (target, message) => {
        this.traffic.synsTo.set(target, (this.traffic.synsTo.get(target) ?? 0) + 1);
        if (!this.reachable(from, target)) return undefined;
        this.traffic.syn++;
        const answered = this.node(target).gossiper.answerSyn(wire(message));
        // A refused SYN gets 400 on the wire, which the real transport reports as no answer.
        return answered.ok && this.reachable(target, from) ? wire(answered.answer) : undefined;
      },
      ack2: async (target, message) => {
        if (!this.reachable(from, target)) return;
        this.traffic.ack2++;
        this.node(target).gossiper.acceptAck2(wire(message));
      },
    };
  }
}

function wire<T>(message: T): T {
  return JSON.parse(JSON.stringify(message)) as T;
}
