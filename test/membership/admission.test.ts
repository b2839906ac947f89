// What gossip may make a node believe: nothing from beyond its clock, no view of itself that outranks its own,
// and members named by others only after it has gossiped with them itself, a few at a time.
import { describe, expect, test } from "bun:test";
import { FutureBound } from "../../src/clock/future-bound.ts";
import { NEW_MEMBERS_PER_MESSAGE_MAX, UNCONFIRMED_LIFETIME_DEAD_PERIODS, UNCONFIRMED_MAX } from "../../src/membership/candidates.ts";
import { Gossiper, UNCONFIRMED_PROBES_PER_ROUND } from "../../src/membership/gossiper.ts";
import { isNewer, type Entry } from "../../src/membership/member.ts";
import { MemberTable } from "../../src/membership/member-table.ts";
import type { Ack, Ack2, GossipTransport, Syn } from "../../src/membership/messages.ts";
import { testClock } from "../support/app.ts";

const SELF = "http://127.0.0.1:7001";
const PEER = "http://127.0.0.1:7002";
const OTHER = "http://127.0.0.1:7003";
const GEN = 1_700_000_000_000;
const SKEW_MS = 500;
const TIMING = { staleAfterMs: 3000, deadAfterMs: 5000 };

/** A table whose clock stands UP_MS after its start, bounded as main bounds it, with every refusal recorded. */
const UP_MS = 60_000;
function bounded() {
  const clock = testClock(GEN + UP_MS);
  const refused: string[] = [];
  const future = new FutureBound({ maxSkewMs: SKEW_MS, clock: clock.now, onRefused: (kind) => refused.push(kind) });
  const table = new MemberTable(SELF, GEN, clock.now, TIMING, { future });
  return { table, clock, refused, nowMs: () => clock.now() };
}

function entry(nodeUrl: string, generation: number, heartbeat: number): Entry {
  return { nodeUrl, generation, heartbeat, leaving: false };
}

/** Fake members on 127.0.0.1 ports that nothing listens on in these in-process tests. */
function fakes(count: number, firstPort = 20_000): Entry[] {
  return Array.from({ length: count }, (_, i) => entry(`http://127.0.0.1:${firstPort + i}`, GEN, 1));
}

/** A transport that answers each SYN from `answers`, or not at all, and records where it sent them. */
function scriptedTransport(answers: (target: string, syn: Syn) => Ack | undefined) {
  const sent: string[] = [];
  const ack2s: Ack2[] = [];
  const transport: GossipTransport = {
    syn: async (target, syn) => {
      sent.push(target);
      return answers(target, syn);
    },
    ack2: async (_target, message) => {
      ack2s.push(message);
    },
  };
  return { transport, sent, ack2s };
}

describe("the heartbeat is the time since the generation", () => {
  test("a beat sets it to now - generation, so generation + heartbeat is the node's wall clock", () => {
    const { table, nowMs } = bounded();
    table.beat();
    expect(table.own.generation + table.own.heartbeat).toBe(nowMs());
  });

  test("it still rises by one when the wall clock steps back within the skew, and refresh never forces a rise", () => {
    const { table, clock } = bounded();
    table.beat();
    const before = table.own.heartbeat;
    clock.advance(-SKEW_MS);
    table.beat();
    expect(table.own.heartbeat).toBe(before + 1);
    table.refresh();
    expect(table.own.heartbeat).toBe(before + 1);
    clock.advance(20_000);
    table.refresh();
    expect(table.own.heartbeat).toBe(UP_MS + 20_000 - SKEW_MS);
  });

  test("a step back beyond the skew takes a new generation: counting on would be refused by every peer until real time caught up", () => {
    const { table, clock } = bounded();
    table.beat();
    clock.advance(-10_000);
    table.beat();
    expect(table.own).toMatchObject({ generation: clock.now(), heartbeat: 0 });
  });
});

describe("news from beyond now + MAX_CLOCK_SKEW_MS", () => {
  test.each([
    ["a generation of 2^53 - 1", entry(PEER, Number.MAX_SAFE_INTEGER, 0), "generation"],
    ["a generation ten years ahead", entry(PEER, GEN + UP_MS + 10 * 365 * 86_400_000, 0), "generation"],
    ["a heartbeat of 2^53 - 1", entry(PEER, GEN, Number.MAX_SAFE_INTEGER), "heartbeat"],
    ["generation + heartbeat just past the skew", entry(PEER, GEN, UP_MS + SKEW_MS + 1), "heartbeat"],
    ["this node itself with a huge generation", entry(SELF, Number.MAX_SAFE_INTEGER, 0), "generation"],
  ] as const)("%s is left out on its own, and reported to the bound each time", (_name, news, kind) => {
    const { table, refused } = bounded();
    expect(table.present([entry(OTHER, GEN, 1), news, news], OTHER)).toEqual({ ok: true, kept: [entry(OTHER, GEN, 1)] });
    expect(refused).toEqual([kind, kind]);
  });

  test.each([
    ["a generation of 2^53 - 1", entry(PEER, Number.MAX_SAFE_INTEGER, 0), "generation"],
    ["generation + heartbeat just past the skew", entry(PEER, GEN, UP_MS + SKEW_MS + 1), "heartbeat"],
  ] as const)("%s as the sender's own news refuses the message whole", (_name, news, kind) => {
    const { table, refused } = bounded();
    expect(table.present([entry(OTHER, GEN, 1), news], PEER)).toEqual({ ok: false, refused: { kind, nodeUrl: PEER } });
    expect(refused).toEqual([kind]);
  });

  test("news up to now + skew is kept", () => {
    const { table, refused } = bounded();
    const news = [entry(PEER, GEN + UP_MS + SKEW_MS, 0), entry(OTHER, GEN, UP_MS + SKEW_MS)];
    expect(table.present(news, PEER)).toEqual({ ok: true, kept: news });
    expect(refused).toEqual([]);
  });

  test("a SYN or ACK2 whose sender's own news is from the future is refused whole: nothing of it is applied, nothing answered", () => {
    const { table } = bounded();
    table.apply([entry(PEER, GEN, 1)]);
    const gossiper = new Gossiper({ table, transport: scriptedTransport(() => undefined).transport, seeds: [], random: () => 0 });
    const before = { members: table.list(), unconfirmed: table.unconfirmedUrls() };
    const forged = [entry(OTHER, GEN, 1), entry(SELF, GEN, 5), entry(PEER, Number.MAX_SAFE_INTEGER, 0)];
    expect(gossiper.answerSyn({ type: "syn", from: PEER, digests: forged })).toEqual({ ok: false, refused: { kind: "generation", nodeUrl: PEER } });
    expect(gossiper.acceptAck2({ type: "ack2", from: PEER, entries: forged })).toEqual({ ok: false, refused: { kind: "generation", nodeUrl: PEER } });
    expect({ members: table.list(), unconfirmed: table.unconfirmedUrls() }).toEqual(before);
  });

  test("a SYN or ACK2 with another member's news from the future is taken in without it, and a SYN is answered", () => {
    const { table, nowMs } = bounded();
    table.apply([entry(PEER, GEN, 1), entry(OTHER, GEN, 1)]);
    const gossiper = new Gossiper({ table, transport: scriptedTransport(() => undefined).transport, seeds: [], random: () => 0 });
    const own = table.own;
    const forged = [entry(PEER, GEN, 2), entry(OTHER, Number.MAX_SAFE_INTEGER, 0), entry(SELF, Number.MAX_SAFE_INTEGER, 0)];
    const answered = gossiper.answerSyn({ type: "syn", from: PEER, digests: forged });
    expect(answered.ok && answered.answer.requests).toEqual([PEER]);
    expect(gossiper.acceptAck2({ type: "ack2", from: PEER, entries: forged })).toEqual({ ok: true, answer: { type: "done" } });
    expect(table.get(PEER)).toMatchObject({ generation: GEN, heartbeat: 2 });
    expect(table.get(OTHER)).toMatchObject({ generation: GEN, heartbeat: 1 });
    expect(table.own.generation).toBe(own.generation);
    expect(table.own.generation + table.own.heartbeat).toBeLessThanOrEqual(nowMs());
  });

  test("an ACK whose sender's own entry is from the future is ignored whole: its sender is not confirmed and nothing is asked of it", async () => {
    const { table } = bounded();
    const { transport, ack2s } = scriptedTransport((target) => ({
      type: "ack",
      from: target,
      entries: [entry(target, Number.MAX_SAFE_INTEGER, 0), entry(OTHER, GEN, UP_MS)],
      requests: [SELF],
    }));
    const gossiper = new Gossiper({ table, transport, seeds: [PEER], random: () => 0 });
    await gossiper.round();
    expect(table.list().map((m) => m.nodeUrl)).toEqual([SELF]);
    expect(table.unconfirmedUrls()).toEqual([]);
    expect(ack2s).toEqual([]);
  });

  test("an ACK with another member's entry from the future is taken in without it: its sender is confirmed and answered", async () => {
    const { table } = bounded();
    const { transport, ack2s } = scriptedTransport((target) => ({
      type: "ack",
      from: target,
      entries: [entry(target, GEN, UP_MS), entry(OTHER, Number.MAX_SAFE_INTEGER, 0)],
      requests: [SELF],
    }));
    const gossiper = new Gossiper({ table, transport, seeds: [PEER], random: () => 0 });
    await gossiper.round();
    expect(table.list().map((m) => m.nodeUrl)).toEqual([SELF, PEER]);
    expect(table.unconfirmedUrls()).toEqual([]);
    expect(ack2s.map((m) => m.entries.map((e) => e.nodeUrl))).toEqual([[SELF]]);
  });
});

describe("forged news at the edge of the bound, between clocks a few ms apart", () => {
  const A = PEER;
  const B = OTHER;
  const C = "http://127.0.0.1:7004";
  const SLOWER_MS = 3;

  /** A, B and C gossiping directly with each other; C's clock runs SLOWER_MS behind the others'. */
  function trio() {
    const clock = testClock(GEN + UP_MS);
    const offsets: Record<string, number> = { [A]: 0, [B]: 0, [C]: -SLOWER_MS };
    const refused: Record<string, number> = { [A]: 0, [B]: 0, [C]: 0 };
    const wholeRefusals: string[] = [];
    const gossipers = new Map<string, Gossiper>();
    const tables = new Map<string, MemberTable>();
    for (const url of [A, B, C]) {
      const now = () => clock.now() + offsets[url]!;
      const future = new FutureBound({ maxSkewMs: SKEW_MS, clock: now, onRefused: () => refused[url]!++ });
      const table = new MemberTable(url, GEN, now, TIMING, { future });
      table.apply([A, B, C].filter((other) => other !== url).map((other) => entry(other, GEN, UP_MS)));
      const transport: GossipTransport = {
        syn: async (target, syn) => {
          const answered = gossipers.get(target)!.answerSyn(syn);
          if (!answered.ok) wholeRefusals.push(`${target} refused a SYN from ${url}`);
          return answered.ok ? answered.answer : undefined;
        },
        ack2: async (target, ack2) => {
          if (!gossipers.get(target)!.acceptAck2(ack2).ok) wholeRefusals.push(`${target} refused an ACK2 from ${url}`);
        },
      };
      tables.set(url, table);
      gossipers.set(url, new Gossiper({ table, transport, seeds: [], random: () => 0 }));
    }
    /** An ACK2 to A in a stranger's name, naming B at A's very edge: now + skew. */
    const forge = () => {
      const b = tables.get(A)!.get(B)!;
      return gossipers.get(A)!.acceptAck2({ type: "ack2", from: "http://127.0.0.1:7666", entries: [entry(B, b.generation, clock.now() + SKEW_MS - b.generation)] });
    };
    return { clock, tables, gossipers, refused, wholeRefusals, forge };
  }

  test("news of a member taken in at one node's edge is left out by a node 3 ms behind, which answers and applies the rest", () => {
    const { clock, tables, gossipers, refused, forge } = trio();
    clock.advance(1);
    tables.get(A)!.beat();
    expect(forge().ok).toBe(true);
    const syn = { type: "syn" as const, from: A, digests: tables.get(A)!.digests() };
    const answered = gossipers.get(C)!.answerSyn(syn);
    expect(answered.ok).toBe(true);
    expect(refused[C]).toBe(1);
    // B's forged view is neither requested nor taken; A's own news is.
    expect(answered.ok && answered.answer.requests).toEqual([A]);
    expect(tables.get(C)!.get(B)!.heartbeat).toBe(UP_MS);
  });

  test("a forgery at A's edge before every gossip message, for three dead-after periods: no node ever loses another", async () => {
    const { clock, tables, gossipers, refused, wholeRefusals, forge } = trio();
    const deadSightings: string[] = [];
    const roundsMax = (3 * TIMING.deadAfterMs) / 1000;
    for (let round = 0; round < roundsMax; round++) {
      for (const url of [A, B, C]) {
        forge();
        await gossipers.get(url)!.round();
        clock.advance(1);
        for (const [at, table] of tables) {
          for (const member of table.list()) if (member.state !== "active") deadSightings.push(`${at} holds ${member.nodeUrl} ${member.state}`);
          expect(table.own.generation + table.own.heartbeat).toBeLessThanOrEqual(table.now());
        }
      }
      clock.advance(1000 - 3);
    }
    expect(deadSightings).toEqual([]);
    expect(wholeRefusals).toEqual([]);
    // The edge was hit: C's bound left out B's forged view many times.
    expect(refused[C]).toBeGreaterThan(roundsMax);
    for (const table of tables.values()) expect(table.ringUrls()).toEqual([A, B, C].sort());
  });
});

describe("news of this node that outranks its own is refuted", () => {
  test.each([
    ["the same generation with a higher heartbeat", (nowMs: number) => entry(SELF, GEN, nowMs + SKEW_MS - GEN)],
    ["a higher generation", (nowMs: number) => entry(SELF, nowMs + SKEW_MS, 0)],
  ])("%s: the node outlives it once its clock passes it, never running ahead of its clock", (_name, make) => {
    const { table, clock, nowMs } = bounded();
    table.beat();
    const before = table.own;
    const news = make(nowMs());
    table.reconcile([news], PEER);
    expect(table.own).toEqual(before);
    clock.advance(SKEW_MS);
    table.beat();
    expect(isNewer(table.own, news)).toBe(false);
    clock.advance(1);
    table.beat();
    expect(isNewer(table.own, news)).toBe(true);
    expect(table.own).toMatchObject({ generation: news.generation, heartbeat: nowMs() - news.generation });
    // The next SYN that holds the forged view is told of the view that outlives it.
    expect(table.reconcile([news], PEER).entries).toContainEqual(entry(SELF, news.generation, nowMs() - news.generation));
  });

  test("1,000 forgeries at the edge of the bound never take the node's view past its own clock, and it outlives them within the skew", () => {
    const { table, clock, nowMs } = bounded();
    let highest = table.own as Entry;
    for (let i = 0; i < 1000; i++) {
      // Each forgery outranks the node by as much as the bound lets it: the highest generation, or heartbeat, it can.
      const forged = i % 2 === 0 ? entry(SELF, nowMs() + SKEW_MS, 0) : entry(SELF, table.own.generation, nowMs() + SKEW_MS - table.own.generation);
      const present = table.present([forged], PEER);
      if (present.ok) table.learn(present.kept);
      if (isNewer(forged, highest)) highest = forged;
      expect(table.own.generation + table.own.heartbeat).toBeLessThanOrEqual(nowMs());
      clock.advance(1);
      table.beat();
      expect(table.own.generation + table.own.heartbeat).toBeLessThanOrEqual(nowMs());
    }
    clock.advance(SKEW_MS + 1);
    table.beat();
    expect(isNewer(table.own, highest)).toBe(true);
    expect(table.own.generation + table.own.heartbeat).toBe(nowMs());
  });
});

describe("members heard of from others", () => {
  test("are unconfirmed: not listed, not in the ring, never passed on in digests or entries", () => {
    const { table } = bounded();
    table.learn([entry(PEER, GEN, 1)]);
    expect(table.unconfirmedUrls()).toEqual([PEER]);
    expect(table.get(PEER)).toBeUndefined();
    expect(table.list().map((m) => m.nodeUrl)).toEqual([SELF]);
    expect(table.ringUrls()).toEqual([SELF]);
    expect(table.digests().map((d) => d.nodeUrl)).toEqual([SELF]);
    expect(table.entries([PEER])).toEqual([]);
    expect(table.reconcile([], OTHER).entries.map((e) => e.nodeUrl)).toEqual([SELF]);
  });

  test(`one message introduces at most ${NEW_MEMBERS_PER_MESSAGE_MAX} new members, and asks for at most as many`, () => {
    const { table } = bounded();
    table.learn(fakes(100));
    expect(table.unconfirmedUrls()).toEqual(fakes(NEW_MEMBERS_PER_MESSAGE_MAX).map((e) => e.nodeUrl));
    const { requests } = table.reconcile(fakes(100, 30_000), OTHER);
    expect(requests).toHaveLength(NEW_MEMBERS_PER_MESSAGE_MAX);
  });

  test(`no more than ${UNCONFIRMED_MAX} are held, and none are asked for while the room is full`, () => {
    const { table } = bounded();
    for (let i = 0; i < 10; i++) table.learn(fakes(NEW_MEMBERS_PER_MESSAGE_MAX, 20_000 + 100 * i));
    expect(table.unconfirmedUrls()).toHaveLength(UNCONFIRMED_MAX);
    expect(table.reconcile(fakes(5, 30_000), OTHER).requests).toEqual([]);
    // Members already confirmed still take news at the bound.
    table.apply([entry(PEER, GEN, 1)]);
    expect(table.reconcile([entry(PEER, GEN, 2)], OTHER).requests).toEqual([PEER]);
  });

  test(`are forgotten ${UNCONFIRMED_LIFETIME_DEAD_PERIODS} dead-after periods after first heard of, however often named again`, () => {
    const { table, clock } = bounded();
    table.learn([entry(PEER, GEN, 1)]);
    clock.advance(UNCONFIRMED_LIFETIME_DEAD_PERIODS * TIMING.deadAfterMs - 1);
    table.learn([entry(PEER, GEN, 2)]);
    table.detect();
    expect(table.unconfirmedUrls()).toEqual([PEER]);
    clock.advance(1);
    table.detect();
    expect(table.unconfirmedUrls()).toEqual([]);
  });

  test("an ACK confirms only its sender, and only when it is the node this node asked", async () => {
    const { table } = bounded();
    const { transport } = scriptedTransport((target) => ({ type: "ack", from: target, entries: [entry(PEER, GEN, UP_MS), entry(OTHER, GEN, UP_MS)], requests: [] }));
    const gossiper = new Gossiper({ table, transport, seeds: [PEER], random: () => 0 });
    await gossiper.round();
    expect(table.get(PEER)?.state).toBe("active");
    expect(table.get(OTHER)).toBeUndefined();
    expect(table.unconfirmedUrls()).toEqual([OTHER]);
  });

  test(`the Gossiper probes ${UNCONFIRMED_PROBES_PER_ROUND} a round, oldest first: one that answers joins, one that does not is forgotten`, async () => {
    const { table } = bounded();
    const [first, second, third] = fakes(3).map((e) => e.nodeUrl) as [string, string, string];
    table.learn(fakes(3));
    const { transport, sent } = scriptedTransport((target) => (target === first ? { type: "ack", from: first, entries: [entry(first, GEN, UP_MS)], requests: [] } : undefined));
    const gossiper = new Gossiper({ table, transport, seeds: [], random: () => 0 });
    await gossiper.round();
    expect(sent.toSorted()).toEqual([first, second]);
    expect(table.get(first)?.state).toBe("active");
    expect(table.unconfirmedUrls()).toEqual([third]);
  });

  test("an answer in another's name confirms no one", async () => {
    const { table } = bounded();
    table.learn([entry(PEER, GEN, 1)]);
    const { transport } = scriptedTransport(() => ({ type: "ack", from: OTHER, entries: [entry(PEER, GEN, UP_MS)], requests: [] }));
    await new Gossiper({ table, transport, seeds: [], random: () => 0 }).round();
    expect(table.get(PEER)).toBeUndefined();
    expect(table.unconfirmedUrls()).toEqual([]);
  });
});

describe("what a starting node waits for", () => {
  test("only members named in a member's answer to its own SYN, never members named unasked", () => {
    const { table } = bounded();
    table.learn([entry(PEER, GEN, UP_MS)], PEER);
    table.learn(fakes(3));
    expect(table.unconfirmedUrls()).toHaveLength(3);
    expect(table.awaitedCount()).toBe(0);
    table.learn([entry(PEER, GEN, UP_MS + 1), entry(OTHER, GEN, UP_MS)], PEER);
    expect(table.awaitedCount()).toBe(1);
    table.learn([entry(OTHER, GEN, UP_MS + 1)], OTHER);
    expect(table.awaitedCount()).toBe(0);
  });
});
