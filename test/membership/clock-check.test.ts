// The clock check: peers' wall times read from gossip tell a node when its own clock is off beyond the skew.
import { describe, expect, test } from "bun:test";
import { FutureBound } from "../../src/clock/future-bound.ts";
import { ClockCheck, medianNearZero, type ClockReading } from "../../src/membership/clock-check.ts";
import { Gossiper } from "../../src/membership/gossiper.ts";
import { MemberTable } from "../../src/membership/member-table.ts";
import { testClock } from "../support/app.ts";

const SKEW_MS = 500;
const LIFETIME_MS = 10_000;
const KEPT_MS = 30_000;
const peer = (i: number) => `http://127.0.0.1:${7100 + i}`;

function check() {
  const clock = testClock();
  const changes: ClockReading[] = [];
  const clockCheck = new ClockCheck({ maxSkewMs: SKEW_MS, clock: clock.now, estimateLifetimeMs: LIFETIME_MS, estimatesMax: 4, medianKeptMs: KEPT_MS, onChange: (r) => changes.push(r) });
  return { clockCheck, clock, changes, all: () => true };
}

describe("the median", () => {
  test.each([
    [[5], 5],
    [[-3, 9, 1], 1],
    [[0, 10_000], 0],
    [[-10_000, 0], 0],
    [[-700, 800], -700],
    [[600, 700, 800, 900], 700],
  ])("of %p, nearer zero for an even count, is %p", (values, median) => {
    expect(medianNearZero(values)).toBe(median);
  });
});

describe("ClockCheck", () => {
  test("peers ahead beyond the skew make this node behind; it is told once on entering and once on leaving", () => {
    const { clockCheck, clock, changes, all } = check();
    for (const i of [0, 1, 2]) clockCheck.observe(peer(i), clock.now() + 10_000);
    expect(clockCheck.reading(all)).toEqual({ status: "behind", offsetMs: -10_000, peers: 3 });
    clockCheck.reading(all);
    for (const i of [0, 1, 2]) clockCheck.observe(peer(i), clock.now());
    expect(clockCheck.reading(all)).toEqual({ status: "ok", offsetMs: 0, peers: 3 });
    expect(changes.map((c) => c.status)).toEqual(["behind", "ok"]);
  });

  test("one peer far off cannot move the median; peers behind make this node ahead", () => {
    const { clockCheck, clock, all } = check();
    clockCheck.observe(peer(0), clock.now() - 3_600_000);
    clockCheck.observe(peer(1), clock.now() + 10);
    clockCheck.observe(peer(2), clock.now() - 10);
    expect(clockCheck.reading(all).status).toBe("ok");
    clockCheck.observe(peer(1), clock.now() - 2_000);
    expect(clockCheck.reading(all)).toMatchObject({ status: "ahead", offsetMs: 2_000 });
  });

  test("an answer is compared with the middle of its round trip", () => {
    const { clockCheck, clock, all } = check();
    const sentAtMs = clock.now();
    clock.advance(400);
    clockCheck.observe(peer(0), sentAtMs + 200, sentAtMs);
    expect(clockCheck.reading(all).offsetMs).toBe(0);
  });

  test("a step of this node's wall clock shows at once, with no peer heard again; estimates age on the monotonic clock", () => {
    let wallMs = 1_764_000_000_000;
    let monotonicMs = 5_000;
    const changes: ClockReading[] = [];
    const clockCheck = new ClockCheck({ maxSkewMs: SKEW_MS, clock: () => wallMs, monotonic: () => monotonicMs, estimateLifetimeMs: LIFETIME_MS, estimatesMax: 4, medianKeptMs: KEPT_MS, onChange: (r) => changes.push(r) });
    for (const i of [0, 1, 2]) clockCheck.observe(peer(i), wallMs + i);
    expect(clockCheck.reading(() => true)).toEqual({ status: "ok", offsetMs: -1, peers: 3 });
    // The wall clock steps an hour ahead: the next write sees it, before any gossip.
    // 10 ms pass on both clocks, and the wall clock steps an hour besides.
    wallMs += 3_600_000 + 10;
    monotonicMs += 10;
    expect(clockCheck.current()).toEqual({ status: "ahead", offsetMs: 3_600_000 - 1, peers: 3 });
    // The estimates did not expire for the step (they are 10 ms old), and the detector's next run says so once.
    expect(clockCheck.reading(() => true)).toEqual({ status: "ahead", offsetMs: 3_600_000 - 1, peers: 3 });
    expect(changes.map((c) => c.status)).toEqual(["ahead"]);
    // Stepped back, it is in time again at once; a step back does not keep estimates past their lifetime either.
    wallMs -= 3_600_000 + 600_000;
    expect(clockCheck.current()).toMatchObject({ status: "behind", offsetMs: -600_001 });
    wallMs += 600_000;
    expect(clockCheck.current()).toMatchObject({ status: "ok", offsetMs: -1 });
    // Once the estimates expired, the last reading's peers stand (medianKeptMs): the step is still seen.
    wallMs += LIFETIME_MS + 3_600_000;
    monotonicMs += LIFETIME_MS;
    expect(clockCheck.reading(() => true)).toEqual({ status: "ahead", offsetMs: 3_600_000 - 1, peers: 3 });
    wallMs += KEPT_MS;
    monotonicMs += KEPT_MS;
    expect(clockCheck.reading(() => true)).toEqual({ status: "ok", offsetMs: 0, peers: 0 });
  });

  test("this node's own step since its clock last read right is exact: a noisy estimate is none, and it ends once it reads right again", () => {
    let wallMs = 1_764_000_000_000;
    let monotonicMs = 5_000;
    const clockCheck = new ClockCheck({ maxSkewMs: SKEW_MS, clock: () => wallMs, monotonic: () => monotonicMs, estimateLifetimeMs: LIFETIME_MS, estimatesMax: 4, medianKeptMs: KEPT_MS });
    // Nothing to compare with before a reading found the clock right.
    expect(clockCheck.ownStepMs()).toBe(0);
    for (const i of [0, 1, 2]) clockCheck.observe(peer(i), wallMs);
    expect(clockCheck.reading(() => true).status).toBe("ok");
    // A peer's noisy estimate moves the offset, not the step.
    monotonicMs += 100;
    wallMs += 100;
    for (const i of [0, 1]) clockCheck.observe(peer(i), wallMs - 700);
    expect(clockCheck.reading(() => true)).toMatchObject({ status: "ahead", offsetMs: 700 });
    expect(clockCheck.ownStepMs()).toBe(0);
    for (const i of [0, 1]) clockCheck.observe(peer(i), wallMs);
    expect(clockCheck.reading(() => true).status).toBe("ok");
    // A step of its own wall clock is the step, at once and after a reading that took it in.
    wallMs += 30_000 + 10;
    monotonicMs += 10;
    expect(clockCheck.ownStepMs()).toBe(30_000);
    expect(clockCheck.reading(() => true).status).toBe("ahead");
    expect(clockCheck.ownStepMs()).toBe(30_000);
    // Set right: the step ends with the next reading that finds the clock right.
    wallMs -= 30_000;
    expect(clockCheck.reading(() => true).status).toBe("ok");
    expect(clockCheck.ownStepMs()).toBe(0);
    wallMs -= 2_000;
    expect(clockCheck.ownStepMs()).toBe(-2_000);
  });

  /** A node of five read right by its four peers, whose clock and peer 0's then step an hour ahead together. */
  function steppedWithPeer0() {
    const step = { wallMs: 1_764_000_000_000, monotonicMs: 5_000 };
    const clockCheck = new ClockCheck({ maxSkewMs: SKEW_MS, clock: () => step.wallMs, monotonic: () => step.monotonicMs, estimateLifetimeMs: LIFETIME_MS, estimatesMax: 4, medianKeptMs: KEPT_MS });
    for (const i of [0, 1, 2, 3]) clockCheck.observe(peer(i), step.wallMs);
    expect(clockCheck.reading(() => true, 2).status).toBe("ok");
    step.wallMs += 3_600_000 + 10;
    step.monotonicMs += 10;
    clockCheck.observe(peer(0), step.wallMs);
    return { clockCheck, wallMs: step.wallMs };
  }

  test("a reading of fewer peers than a majority does not clear a step, though it finds the clock right", () => {
    const { clockCheck, wallMs } = steppedWithPeer0();
    // The other three are soon held dead and stop counting.
    expect(clockCheck.reading((p) => p === peer(0), 2)).toMatchObject({ status: "ok", peers: 1 });
    expect(clockCheck.ownStepMs()).toBe(3_600_000);
    // A majority reading it right clears it.
    for (const i of [1, 2, 3]) clockCheck.observe(peer(i), wallMs);
    expect(clockCheck.reading(() => true, 2).status).toBe("ok");
    expect(clockCheck.ownStepMs()).toBe(0);
  });

  test("a step is cleared only by a majority that reads the clock right, not by a tie between a peer that stepped with it and one that did not", () => {
    const { clockCheck, wallMs } = steppedWithPeer0();
    // Of the three others only peer 1 still counts. Two peers, one each way: the even median leans to "ok", but only
    // one of them reads this clock right.
    clockCheck.observe(peer(1), wallMs - 3_600_000);
    expect(clockCheck.reading((p) => p === peer(0) || p === peer(1), 2)).toMatchObject({ peers: 2 });
    expect(clockCheck.ownStepMs()).toBe(3_600_000);
    // Two peers that read it right, with this node a majority of five, clear it.
    clockCheck.observe(peer(2), wallMs);
    expect(clockCheck.reading((p) => p === peer(0) || p === peer(2), 2)).toMatchObject({ status: "ok", peers: 2 });
    expect(clockCheck.ownStepMs()).toBe(0);
  });

  test("only fresh estimates of peers that count are used, and at most estimatesMax are kept", () => {
    const { clockCheck, clock } = check();
    for (const i of [0, 1, 2, 3, 4]) clockCheck.observe(peer(i), clock.now() + 10_000);
    expect(clockCheck.reading(() => true).peers).toBe(4);
    expect(clockCheck.reading((url) => url !== peer(1)).peers).toBe(3);
    clock.advance(LIFETIME_MS);
    // None is fresh: the last reading stands for medianKeptMs, then there is nothing to go by.
    expect(clockCheck.reading(() => true)).toEqual({ status: "behind", offsetMs: -10_000, peers: 3 });
    clock.advance(KEPT_MS);
    expect(clockCheck.reading(() => true)).toEqual({ status: "ok", offsetMs: 0, peers: 0 });
  });
});

describe("the clock check fed by gossip", () => {
  test("a node hears its peers' clocks from their answers and SYNs, even from answers it refuses as from the future", async () => {
    const clock = testClock();
    const future = new FutureBound({ maxSkewMs: SKEW_MS, clock: clock.now });
    const changes: ClockReading[] = [];
    const seeds = [peer(1), peer(2)];
    const table = new MemberTable(peer(0), clock.now(), clock.now, { staleAfterMs: 3000, deadAfterMs: 5000 }, { future, seeds, onClockChange: (r) => changes.push(r) });
    const aheadMs = 10_000;
    const transport = {
      syn: async (target: string) => ({ type: "ack" as const, from: target, entries: [{ nodeUrl: target, generation: clock.now() + aheadMs - 5, heartbeat: 5, leaving: false }], requests: [] }),
      ack2: async () => undefined,
    };
    // Each round picks the other missing seed.
    let picks = 0;
    const gossiper = new Gossiper({ table, transport, seeds, random: () => (picks++ % 2) * 0.9 });
    await gossiper.round();
    await gossiper.round();
    // Both seeds answered from 10 s ahead: nothing of it was taken in, but the node knows it is behind.
    expect(table.list()).toHaveLength(1);
    expect(table.clockReading()).toEqual({ status: "behind", offsetMs: -aheadMs, peers: 2 });
    expect(changes.map((c) => c.status)).toEqual(["behind"]);
    // A SYN from a seed whose clock agrees brings the median back within the skew.
    for (const seed of seeds) gossiper.answerSyn({ type: "syn", from: seed, digests: [{ nodeUrl: seed, generation: clock.now() - 100, heartbeat: 100 }] });
    expect(table.clockReading()).toMatchObject({ status: "ok", offsetMs: 0 });
    // A SYN in the name of a stranger is not heard: anyone can write any `from`.
    gossiper.answerSyn({ type: "syn", from: peer(9), digests: [{ nodeUrl: peer(9), generation: clock.now() - 100_000, heartbeat: 0 }] });
    expect(table.clockReading().peers).toBe(2);
  });

  test("only confirmed members that are not dead, and seeds, count: unconfirmed members, strangers and the dead do not", async () => {
    const clock = testClock();
    const future = new FutureBound({ maxSkewMs: SKEW_MS, clock: clock.now });
    const timing = { staleAfterMs: 3000, deadAfterMs: 5000 };
    const table = new MemberTable(peer(0), clock.now(), clock.now, timing, { future, seeds: [peer(5)] });
    const member = { nodeUrl: peer(1), generation: clock.now(), heartbeat: 0, leaving: false };
    table.apply([member]);
    table.observeClock(peer(1), clock.now());
    // Two members learnt from others' gossip, probed by this node: each answers 400 with a clock ten minutes back,
    // as the peer client reports it. Then a SYN from a third unconfirmed member, and one in a stranger's name.
    const behind = clock.now() - 600_000;
    table.learn([2, 3, 4].map((i) => ({ nodeUrl: peer(i), generation: clock.now(), heartbeat: 0, leaving: false })));
    expect(table.unconfirmedUrls()).toEqual([peer(2), peer(3), peer(4)]);
    table.observeClock(peer(2), behind, clock.now());
    table.observeClock(peer(3), behind, clock.now());
    const gossiper = new Gossiper({ table, transport: { syn: async () => undefined, ack2: async () => undefined }, seeds: [], random: () => 0 });
    for (const from of [peer(4), peer(9)]) gossiper.answerSyn({ type: "syn", from, digests: [{ nodeUrl: from, generation: behind, heartbeat: 0 }] });
    expect(table.clockReading()).toEqual({ status: "ok", offsetMs: 0, peers: 1 });
    // A seed counts before it is a member: a node far ahead hears of its seeds' clocks only in their refusals.
    table.observeClock(peer(5), clock.now(), clock.now());
    expect(table.clockReading().peers).toBe(2);
    // A member held dead no longer counts, however fresh its estimate.
    clock.advance(timing.deadAfterMs);
    table.apply([{ ...member, heartbeat: timing.deadAfterMs }]);
    table.observeClock(peer(1), clock.now());
    table.detect();
    clock.advance(timing.deadAfterMs);
    table.detect();
    expect(table.get(peer(1))?.state).toBe("dead");
    table.observeClock(peer(1), behind);
    table.observeClock(peer(5), clock.now());
    expect(table.clockReading()).toEqual({ status: "ok", offsetMs: 0, peers: 1 });
  });
});
