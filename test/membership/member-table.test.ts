// The member table on its own: merge rules, SYN reconciliation, news about this node and the failure detector.
import { describe, expect, test } from "bun:test";
import { isNewer, type Digest, type Entry } from "../../src/membership/member.ts";
import { FORGET_REMOVED_AFTER_MS, MEMBERS_MAX, MemberTable, type MembershipChange } from "../../src/membership/member-table.ts";
import { FutureBound } from "../../src/clock/future-bound.ts";
import { testClock, type TestClock } from "../support/app.ts";

const SELF = "http://127.0.0.1:8484";
const A = "http://127.0.0.2:8484";
const B = "http://127.0.0.3:8484";
const C = "http://127.0.0.4:8484";
const D = "http://127.0.0.5:8484";
const E = "http://127.0.0.6:8484";
/** Generations are start times; every member here started at this one unless a test says otherwise. */
const GEN = 1_700_000_000_000;
const STALE_AFTER_MS = 3000;
const DEAD_AFTER_MS = 5000;

function digest(nodeUrl: string, generation: number, heartbeat: number): Digest {
  return { nodeUrl, generation, heartbeat };
}

function entry(nodeUrl: string, generation: number, heartbeat: number, leaving = false): Entry {
  return { nodeUrl, generation, heartbeat, leaving };
}

function newTable(clock: TestClock = testClock(), self = SELF, generation = GEN): { table: MemberTable; clock: TestClock; heard: MembershipChange[][] } {
  const table = new MemberTable(self, generation, clock.now, { staleAfterMs: STALE_AFTER_MS, deadAfterMs: DEAD_AFTER_MS });
  const heard: MembershipChange[][] = [];
  table.onChange((changes) => heard.push([...changes]));
  return { table, clock, heard };
}

/** A table that has held A dead since DEAD_AFTER_MS of silence, and B active and fresh. */
function tableWithDeadA() {
  const made = newTable();
  made.table.apply([entry(A, GEN, 7), entry(B, GEN, 7)]);
  made.clock.advance(DEAD_AFTER_MS);
  made.table.apply([entry(B, GEN, 8)]);
  made.table.detect();
  expect(made.table.get(A)?.state).toBe("dead");
  expect(made.table.get(B)?.state).toBe("active");
  return made;
}

const byUrl = (a: { nodeUrl: string }, b: { nodeUrl: string }) => (a.nodeUrl < b.nodeUrl ? -1 : a.nodeUrl > b.nodeUrl ? 1 : 0);

describe("isNewer", () => {
  test.each([
    ["a later generation with a lower heartbeat", true, digest(A, 2, 0), digest(A, 1, 9)],
    ["the same generation with a higher heartbeat", true, digest(A, 1, 5), digest(A, 1, 4)],
    ["identical news", false, digest(A, 1, 5), digest(A, 1, 5)],
    ["the same generation with a lower heartbeat", false, digest(A, 1, 4), digest(A, 1, 5)],
    ["an earlier generation with a higher heartbeat", false, digest(A, 1, 9), digest(A, 2, 0)],
    ["a removal of the same generation with a lower heartbeat", true, { ...digest(A, 1, 1), removed: true }, digest(A, 1, 9)],
    ["a higher heartbeat against a removal of the same generation", false, digest(A, 1, 9), { ...digest(A, 1, 1), removed: true }],
    ["a later generation against a removal", true, digest(A, 2, 0), { ...digest(A, 1, 9), removed: true }],
  ])("%s is newer: %p", (_name, expected, a, b) => {
    expect(isNewer(a, b)).toBe(expected);
  });
});

describe("apply", () => {
  test("an unknown member joins as active at once, and the join is reported", () => {
    const { table, clock, heard } = newTable();
    const changes = table.apply([entry(A, GEN, 3, true)]);
    expect(changes).toEqual([{ nodeUrl: A, from: "unknown", to: "active" }]);
    expect(heard).toEqual([changes]);
    expect(table.get(A)).toEqual({ nodeUrl: A, generation: GEN, heartbeat: 3, leaving: true, state: "active", advancedAtMs: clock.now() });
    expect(table.aliveUrls()).toEqual([SELF, A]);
  });

  test.each([
    ["equal news", entry(A, GEN, 5)],
    ["an older heartbeat of the same generation", entry(A, GEN, 4)],
    ["an older generation with a far higher heartbeat", entry(A, GEN - 1, 9999)],
  ])("apply ignores %s: the member, its silence and the listeners stay untouched", (_name, news) => {
    const { table, clock, heard } = newTable();
    table.apply([entry(A, GEN, 5)]);
    const before = table.get(A);
    clock.advance(2000);
    expect(table.apply([news])).toEqual([]);
    expect(table.get(A)).toEqual(before);
    expect(heard).toHaveLength(1);
  });

  test.each([
    ["a higher heartbeat of the same generation", entry(A, GEN, 6)],
    ["a later generation", entry(A, GEN + 1, 6)],
    ["a later generation with a lower heartbeat than the old one", entry(A, GEN + 1, 0)],
  ])("apply takes %s and restarts the member's silence", (_name, news) => {
    const { table, clock } = newTable();
    table.apply([entry(A, GEN, 5)]);
    clock.advance(2000);
    expect(table.apply([news])).toEqual([]);
    expect(table.get(A)).toEqual({ ...news, state: "active", advancedAtMs: clock.now() });
  });

  test("a newer generation beats a higher heartbeat of an older one, whatever order the news comes in", () => {
    const first = newTable().table;
    first.apply([entry(A, GEN + 1, 1)]);
    first.apply([entry(A, GEN, 1000)]);
    const second = newTable().table;
    second.apply([entry(A, GEN, 1000)]);
    second.apply([entry(A, GEN + 1, 1)]);
    for (const table of [first, second]) expect(table.get(A)).toMatchObject({ generation: GEN + 1, heartbeat: 1 });
  });

  test("the table never grows past MEMBERS_MAX, yet members it holds still take news at the bound", () => {
    const { table } = newTable();
    const urls = Array.from({ length: MEMBERS_MAX - 1 }, (_, i) => `http://127.1.${i >> 8}.${i & 255}:8484`);
    table.apply(urls.map((url) => entry(url, GEN, 1)));
    expect(table.list()).toHaveLength(MEMBERS_MAX);
    expect(table.apply([entry("http://127.9.9.9:8484", GEN, 1)])).toEqual([]);
    expect(table.get("http://127.9.9.9:8484")).toBeUndefined();
    expect(table.list()).toHaveLength(MEMBERS_MAX);
    table.apply([entry(urls[0]!, GEN, 2)]);
    expect(table.get(urls[0]!)?.heartbeat).toBe(2);
  });
});

describe("reconcile", () => {
  test("answers a SYN with the entries its sender lacks or holds older, and requests those it knows better", () => {
    const { table } = newTable();
    table.apply([entry(A, GEN, 5), entry(B, GEN, 5), entry(C, GEN, 5), entry(D, GEN, 5)]);
    const before = table.list();
    const answer = table.reconcile([digest(A, GEN, 3), digest(B, GEN, 5), digest(C, GEN, 9), digest(E, GEN, 1)], E);
    // A is older there, D and this node are missing there; B is equal; C is newer there and E unknown here.
    expect(answer.entries.toSorted(byUrl)).toEqual([entry(SELF, GEN, 0), entry(A, GEN, 5), entry(D, GEN, 5)]);
    expect(answer.requests.toSorted()).toEqual([C, E]);
    // Reconciling only decides what to send: the news itself arrives with the ACK2.
    expect(table.list()).toEqual(before);
  });

  test("a SYN that holds exactly what this node holds gets an empty answer", () => {
    const { table } = newTable();
    table.apply([entry(A, GEN, 5), entry(B, GEN + 1, 0)]);
    expect(table.reconcile(table.digests(), A)).toEqual({ entries: [], requests: [] });
  });

  test("entries and digests name members in the same terms as the table holds them", () => {
    const { table } = newTable();
    table.apply([entry(A, GEN, 5, true)]);
    expect(table.digests()).toEqual([digest(SELF, GEN, 0), digest(A, GEN, 5)]);
    expect(table.entries([A, SELF, "http://127.9.9.9:8484"])).toEqual([entry(A, GEN, 5, true), entry(SELF, GEN, 0)]);
  });
});

describe("dead members", () => {
  test("a dead member is passed on like any other (it still owns ranges): in digests, in entries, to a sender that lacks it", () => {
    const { table } = tableWithDeadA();
    expect(table.digests().map((d) => d.nodeUrl)).toEqual([SELF, A, B]);
    expect(table.entries([A, B])).toEqual([entry(A, GEN, 7), entry(B, GEN, 8)]);
    expect(table.reconcile([], C).entries.map((e) => e.nodeUrl)).toContain(A);
    // One that holds older news of it hears this node's; one that holds the same hears nothing of it.
    expect(table.reconcile([digest(A, GEN, 2)], C).entries).toContainEqual(entry(A, GEN, 7));
    expect(table.reconcile([digest(A, GEN, 7)], C).entries.map((e) => e.nodeUrl)).not.toContain(A);
  });

  test("a dead member is requested from a sender with newer news of it, and that news revives it", () => {
    const { table, heard } = tableWithDeadA();
    expect(table.reconcile([digest(A, GEN, 8)], C).requests).toEqual([A]);
    expect(table.apply([entry(A, GEN, 8)])).toEqual([{ nodeUrl: A, from: "dead", to: "active" }]);
    expect(heard.at(-1)).toEqual([{ nodeUrl: A, from: "dead", to: "active" }]);
    expect(table.aliveUrls()).toContain(A);
  });

  test("a sender held dead here under a newer generation than it now has hears of that old self", () => {
    const { table } = tableWithDeadA();
    // A restarted after its clock went back: its new generation is older than the one held here.
    const restarted = digest(A, GEN - 60_000, 1);
    expect(table.reconcile([restarted], A).entries).toContainEqual(entry(A, GEN, 7));
  });

  test("a node restarted with an older generation than the one held dead rejoins after two exchanges", () => {
    const { table, clock } = tableWithDeadA();
    const a = newTable(clock, A, GEN - 60_000).table;
    // First exchange: A learns of its old self; its clock is past that self's, so it takes that generation at once,
    // with its own clock as the heartbeat.
    a.apply(table.reconcile(a.digests(), A).entries);
    expect(a.own).toMatchObject({ generation: GEN, heartbeat: clock.now() - GEN });
    // Second exchange: its news is now newer than the dead record, so it is requested and revives it.
    const { requests } = table.reconcile(a.digests(), A);
    expect(requests).toContain(A);
    table.apply(a.entries(requests));
    expect(table.get(A)).toMatchObject({ state: "active", generation: a.own.generation });
  });
});

describe("news about this node", () => {
  test.each(["reconcile", "apply", "learn"] as const)("news of this node from a later generation, heard through %s, is outlived once this node's clock passes it, never before", (through) => {
    const { table, clock } = newTable();
    table.beat();
    const before = table.own;
    const hear = () => (through === "reconcile" ? table.reconcile([digest(SELF, GEN + 10, 3)], A).entries : table[through]([entry(SELF, GEN + 10, 3)]));
    hear();
    // Its wall time (GEN + 13) is still ahead of this node's clock: taking it now would run ahead of the clock.
    expect(table.own).toEqual(before);
    clock.advance(13);
    table.beat();
    expect(table.own.generation).toBe(GEN);
    clock.advance(1);
    table.beat();
    expect(table.own).toMatchObject({ generation: GEN + 10, heartbeat: 4, state: "active" });
    expect(table.own.generation + table.own.heartbeat).toBe(clock.now());
    expect(isNewer(table.own, digest(SELF, GEN + 10, 3))).toBe(true);
  });

  test("news of this node whose wall time this node's clock has passed is outlived at once, and a SYN's sender is told in the answer", () => {
    const { table, clock } = newTable();
    clock.advance(100);
    table.beat();
    const { entries } = table.reconcile([digest(SELF, GEN + 10, 3)], A);
    expect(entries).toContainEqual(entry(SELF, GEN + 10, 90));
    expect(table.own).toMatchObject({ generation: GEN + 10, heartbeat: 90 });
  });

  test.each([
    ["its own news", entry(SELF, GEN, 2)],
    ["older news of its own generation", entry(SELF, GEN, 1)],
    ["news from an older generation", entry(SELF, GEN - 1, 99)],
  ])("%s leaves this node as it is", (_name, news) => {
    const { table } = newTable();
    table.beat();
    table.beat();
    const before = table.own;
    table.apply([news]);
    table.reconcile([news], A);
    expect(table.own).toEqual(before);
  });
});

describe("the failure detector", () => {
  test.each([
    [0, "active"],
    [STALE_AFTER_MS - 1, "active"],
    [STALE_AFTER_MS, "stale"],
    [DEAD_AFTER_MS - 1, "stale"],
    [DEAD_AFTER_MS, "dead"],
    [3_600_000, "dead"],
  ] as const)("a member silent for %i ms is %s", (silentMs, state) => {
    const { table, clock } = newTable();
    table.apply([entry(A, GEN, 1)]);
    clock.advance(silentMs);
    table.detect();
    expect(table.get(A)?.state).toBe(state);
  });

  test("a silent member turns stale, then dead, and each change is reported once", () => {
    const { table, clock, heard } = newTable();
    table.apply([entry(A, GEN, 1)]);
    const seen: MembershipChange[][] = [];
    for (let ms = 0; ms < 2 * DEAD_AFTER_MS; ms += 500) {
      seen.push(table.detect());
      clock.advance(500);
    }
    expect(seen.flat()).toEqual([
      { nodeUrl: A, from: "active", to: "stale" },
      { nodeUrl: A, from: "stale", to: "dead" },
    ]);
    expect(heard.slice(1)).toEqual([[{ nodeUrl: A, from: "active", to: "stale" }], [{ nodeUrl: A, from: "stale", to: "dead" }]]);
  });

  test("newer news restarts a member's silence", () => {
    const { table, clock } = newTable();
    table.apply([entry(A, GEN, 1)]);
    clock.advance(STALE_AFTER_MS - 500);
    table.apply([entry(A, GEN, 2)]);
    clock.advance(STALE_AFTER_MS - 1);
    table.detect();
    expect(table.get(A)?.state).toBe("active");
    clock.advance(1);
    table.detect();
    expect(table.get(A)?.state).toBe("stale");
  });

  test("only newer news revives a member: neither more detection nor equal news does", () => {
    const { table, clock } = tableWithDeadA();
    clock.advance(DEAD_AFTER_MS);
    expect(table.detect().filter((c) => c.nodeUrl === A)).toEqual([]);
    expect(table.apply([entry(A, GEN, 7)])).toEqual([]);
    expect(table.get(A)?.state).toBe("dead");
    expect(table.apply([entry(A, GEN, 8)])).toEqual([{ nodeUrl: A, from: "dead", to: "active" }]);
  });

  test("newer news of a stale member makes it active again", () => {
    const { table, clock } = newTable();
    table.apply([entry(A, GEN, 1)]);
    clock.advance(STALE_AFTER_MS);
    table.detect();
    expect(table.apply([entry(A, GEN, 2)])).toEqual([{ nodeUrl: A, from: "stale", to: "active" }]);
    expect(table.get(A)?.state).toBe("active");
  });

  test("the detector never judges this node itself", () => {
    const { table, clock } = newTable();
    clock.advance(3_600_000);
    expect(table.detect()).toEqual([]);
    expect(table.own.state).toBe("active");
  });

  test("every listener gets each batch of changes as one call", () => {
    const { table, clock } = newTable();
    const calls: MembershipChange[][] = [];
    table.onChange((changes) => calls.push([...changes]));
    table.apply([entry(A, GEN, 1), entry(B, GEN, 1)]);
    clock.advance(STALE_AFTER_MS);
    table.detect();
    table.detect();
    expect(calls).toEqual([
      [
        { nodeUrl: A, from: "unknown", to: "active" },
        { nodeUrl: B, from: "unknown", to: "active" },
      ],
      [
        { nodeUrl: A, from: "active", to: "stale" },
        { nodeUrl: B, from: "active", to: "stale" },
      ],
    ]);
  });

  test("aliveUrls lists this node and every active or stale member, sorted, and no dead one", () => {
    const { table, clock } = tableWithDeadA();
    table.apply([entry(E, GEN, 1), entry(C, GEN, 1)]);
    clock.advance(STALE_AFTER_MS);
    table.apply([entry(E, GEN, 2)]);
    table.detect();
    expect(table.list().map((m) => [m.nodeUrl, m.state])).toEqual([
      [SELF, "active"],
      [A, "dead"],
      [B, "stale"],
      [C, "stale"],
      [E, "active"],
    ]);
    expect(table.aliveUrls()).toEqual([SELF, B, C, E]);
  });
});

describe("liveness is not ownership", () => {
  test("a dead member keeps its place in the ring; it is no longer alive, and requests treat it as down", () => {
    const { table } = tableWithDeadA();
    expect(table.ringUrls()).toEqual([SELF, A, B].sort());
    expect(table.aliveUrls()).toEqual([SELF, B].sort());
    expect(table.isDead(A)).toBe(true);
    expect(table.isDead(B)).toBe(false);
  });

  test("a dead member is never forgotten, however long it stays silent: only a removal ends its ownership", () => {
    const { table, clock } = tableWithDeadA();
    clock.advance(FORGET_REMOVED_AFTER_MS * 10);
    table.detect();
    expect(table.get(A)?.state).toBe("dead");
    expect(table.ringUrls()).toContain(A);
  });

  test("a removal is refused for this node, an unknown member, a member not held dead, and one removed already", () => {
    const { table } = tableWithDeadA();
    expect(table.remove(SELF)).toEqual({ ok: false, refused: "self" });
    expect(table.remove(C)).toEqual({ ok: false, refused: "unknown" });
    expect(table.remove(B)).toEqual({ ok: false, refused: "alive" });
    expect(table.ringUrls()).toEqual([SELF, A, B].sort());
    expect(table.remove(A)).toEqual({ ok: true });
    expect(table.remove(A)).toEqual({ ok: false, refused: "removed" });
  });

  test("a removed member leaves the ring, the change is heard, and the removal travels in digests and entries though the member is dead", () => {
    const { table, heard } = tableWithDeadA();
    heard.length = 0;
    table.remove(A);
    expect(heard).toEqual([[{ nodeUrl: A, from: "dead", to: "removed" }]]);
    expect(table.ringUrls()).toEqual([SELF, B].sort());
    expect(table.digests().find((d) => d.nodeUrl === A)).toEqual({ nodeUrl: A, generation: GEN, heartbeat: 7, removed: true });
    expect(table.entries([A])).toEqual([{ nodeUrl: A, generation: GEN, heartbeat: 7, leaving: false, removed: true }]);
  });

  test("a removal heard through gossip outranks every heartbeat of that generation; a restart under a later one joins again", () => {
    const { table, heard } = newTable();
    table.apply([entry(A, GEN, 50), entry(B, GEN, 1)]);
    heard.length = 0;
    expect(table.apply([{ ...entry(A, GEN, 3), removed: true }])).toEqual([{ nodeUrl: A, from: "active", to: "removed" }]);
    expect(table.ringUrls()).toEqual([SELF, B].sort());
    // Its own later heartbeats, relayed by a peer that had not heard of the removal, do not undo it.
    expect(table.apply([entry(A, GEN, 99)])).toEqual([]);
    expect(table.ringUrls()).not.toContain(A);
    expect(table.apply([entry(A, GEN + 1, 0)])).toEqual([{ nodeUrl: A, from: "active", to: "active" }]);
    expect(table.ringUrls()).toContain(A);
  });

  test("the removal of a member never known here is not taken in, nor asked for", () => {
    const { table } = newTable();
    expect(table.learn([{ ...entry(C, GEN, 3), removed: true }], B)).toEqual([]);
    expect(table.get(C)).toBeUndefined();
    expect(table.unconfirmedUrls()).toEqual([]);
    expect(table.reconcile([{ ...digest(C, GEN, 3), removed: true }], B).requests).toEqual([]);
  });

  test("a removed member is forgotten FORGET_REMOVED_AFTER_MS after its removal", () => {
    const { table, clock } = tableWithDeadA();
    table.remove(A);
    clock.advance(FORGET_REMOVED_AFTER_MS - 1);
    table.detect();
    expect(table.get(A)?.removed).toBe(true);
    clock.advance(1);
    table.detect();
    expect(table.get(A)).toBeUndefined();
  });

  test("a node that hears of its own removal takes a later generation, so it joins again as new", () => {
    const { table, clock, heard } = newTable();
    clock.advance(10_000);
    table.beat();
    const removal = { ...entry(SELF, GEN, 3), removed: true };
    table.apply([removal]);
    expect(table.own.generation).toBeGreaterThan(GEN);
    expect(isNewer(table.own, removal)).toBe(true);
    expect(table.ringUrls()).toContain(SELF);
    expect(heard.at(-1)).toEqual([{ nodeUrl: SELF, from: "active", to: "active" }]);
  });

  test("a member that left and went silent is forgotten like a removed one; while it hands off it counts for nothing", () => {
    const { table, clock } = newTable();
    table.apply([entry(A, GEN, 1, true), entry(B, GEN, 1)]);
    expect(table.ringUrls()).toEqual([SELF, B].sort());
    expect(table.majority()).toEqual({ members: 2, reachable: 2, majority: true });
    clock.advance(DEAD_AFTER_MS);
    table.apply([entry(B, GEN, 2)]);
    table.detect();
    clock.advance(FORGET_REMOVED_AFTER_MS);
    table.apply([entry(B, GEN, 3)]);
    table.detect();
    expect(table.get(A)).toBeUndefined();
  });
});

describe("majority", () => {
  /** SELF with A..D: those in `dead` silent past the dead time, the rest fresh. */
  function fiveWith(dead: readonly string[]) {
    const made = newTable();
    made.table.apply([A, B, C, D].map((url) => entry(url, GEN, 1)));
    made.clock.advance(DEAD_AFTER_MS);
    made.table.apply([A, B, C, D].filter((url) => !dead.includes(url)).map((url) => entry(url, GEN, 2)));
    made.table.detect();
    return made;
  }

  test.each([
    [[], 5, true],
    [[A, B], 3, true],
    [[A, B, C], 2, false],
    [[A, B, C, D], 1, false],
  ] as const)("with %p dead, this node reaches %p of 5: majority %p", (dead, reachable, majority) => {
    expect(fiveWith(dead).table.majority()).toEqual({ members: 5, reachable, majority });
  });

  test("the automatic removal takes members dead for the given time, on the majority side only", () => {
    const minority = fiveWith([A, B, C]);
    minority.clock.advance(60_000);
    expect(minority.table.removeDeadAfter(30_000)).toEqual([]);
    expect(minority.table.ringUrls()).toHaveLength(5);

    const majority = fiveWith([A, B]);
    majority.table.apply([entry(C, GEN, 3), entry(D, GEN, 3)]);
    expect(majority.table.removeDeadAfter(30_000)).toEqual([]);
    majority.clock.advance(30_000 - DEAD_AFTER_MS);
    majority.table.apply([entry(C, GEN, 4), entry(D, GEN, 4)]);
    majority.table.detect();
    expect(majority.table.removeDeadAfter(30_000)).toEqual([A, B]);
    expect(majority.table.ringUrls()).toEqual([SELF, C, D].sort());
    expect(majority.table.removeDeadAfter(0)).toEqual([]);
  });
});

describe("clocks and pauses", () => {
  test("silence is measured on the monotonic clock: the wall clock stepping an hour ahead kills no member", () => {
    const wall = testClock();
    const mono = testClock();
    const table = new MemberTable(SELF, GEN, wall.now, { staleAfterMs: STALE_AFTER_MS, deadAfterMs: DEAD_AFTER_MS }, { monotonic: mono.now });
    table.apply([entry(A, GEN, 1)]);
    wall.advance(3_600_000);
    table.detect();
    expect(table.get(A)?.state).toBe("active");
    mono.advance(DEAD_AFTER_MS);
    table.detect();
    expect(table.get(A)?.state).toBe("dead");
  });

  test("a gap between detector runs longer than pauseAfterMs is this node's pause: members keep the silence they had before it", () => {
    const clock = testClock();
    const table = new MemberTable(SELF, GEN, clock.now, { staleAfterMs: STALE_AFTER_MS, deadAfterMs: DEAD_AFTER_MS }, { pauseAfterMs: STALE_AFTER_MS });
    table.apply([entry(A, GEN, 1)]);
    table.detect();
    clock.advance(1000);
    table.detect();
    clock.advance(10_000);
    table.detect();
    expect(table.get(A)?.state).toBe("active");
    expect(table.silenceOf(table.get(A)!)).toBe(1000);
    // Once running again, silence counts as before: the member turns dead after the rest of its time.
    for (let step = 0; step < 4; step++) {
      clock.advance(1000);
      table.detect();
    }
    expect(table.get(A)?.state).toBe("dead");
  });

  test("without pauseAfterMs the same gap is silence, and the member is dead", () => {
    const { table, clock } = newTable();
    table.apply([entry(A, GEN, 1)]);
    table.detect();
    clock.advance(11_000);
    table.detect();
    expect(table.get(A)?.state).toBe("dead");
  });
});

describe("a node that restarts and hears of members before it asks", () => {
  test("a member first heard of unasked (a peer's SYN or ACK2) and then named in an answer to its own SYN is awaited: the node is not joined without it", () => {
    const { table } = newTable();
    // A peer gossips to the restarted node first: its ACK2 names A, taken in unasked.
    table.learn([entry(A, GEN, 9)]);
    expect(table.awaitedCount()).toBe(0);
    // Then the node's own SYN to B is answered naming A: A is a member of the cluster as B knows it.
    table.learn([entry(B, GEN, 3), entry(A, GEN, 9)], B);
    expect(table.awaitedCount()).toBe(1);
    expect(table.unconfirmedUrls()).toEqual([A]);
  });
});

describe("a member that is down when this node joins", () => {
  test("named in a member's answer to this node's own SYN and silent to its probe, it is taken in as dead: in the ring, not alive", () => {
    const { table, heard } = newTable();
    table.learn([entry(B, GEN, 3), entry(A, GEN, 9)], B);
    expect(table.awaitedCount()).toBe(1);
    heard.length = 0;
    expect(table.unanswered(A)).toEqual([{ nodeUrl: A, from: "unknown", to: "dead" }]);
    expect(heard).toEqual([[{ nodeUrl: A, from: "unknown", to: "dead" }]]);
    expect(table.ringUrls()).toEqual([SELF, A, B].sort());
    expect(table.isDead(A)).toBe(true);
    expect(table.awaitedCount()).toBe(0);
    // Its own gossip later revives it as any dead member.
    expect(table.apply([entry(A, GEN, 10)])).toEqual([{ nodeUrl: A, from: "dead", to: "active" }]);
  });

  test("named unasked (an ACK2 or a SYN anyone can send) and silent, it is forgotten: never in the ring", () => {
    const { table } = newTable();
    table.learn([entry(A, GEN, 9)]);
    expect(table.unconfirmedUrls()).toEqual([A]);
    expect(table.unanswered(A)).toEqual([]);
    expect(table.get(A)).toBeUndefined();
    expect(table.unconfirmedUrls()).toEqual([]);
  });

  test("answered in another's name, it is forgotten however it was named", () => {
    const { table } = newTable();
    table.learn([entry(B, GEN, 3), entry(A, GEN, 9)], B);
    table.forgetUnconfirmed(A);
    expect(table.get(A)).toBeUndefined();
    expect(table.unanswered(A)).toEqual([]);
  });
});

describe("a wall clock that steps back from beyond the skew", () => {
  test("the next beat takes a new generation from the clock, so peers take this node's news again at once", () => {
    const wall = testClock();
    const future = new FutureBound({ maxSkewMs: 500, clock: wall.now });
    const table = new MemberTable(SELF, wall.now(), wall.now, { staleAfterMs: STALE_AFTER_MS, deadAfterMs: DEAD_AFTER_MS }, { future });
    const before = table.own;
    // An hour ahead for a while: the heartbeat follows the clock.
    wall.advance(3_600_000);
    table.beat();
    const ahead = table.own;
    expect(ahead.generation + ahead.heartbeat).toBe(wall.now());
    // Set right again: counting on from an hour ahead would stay past every peer's bound for an hour.
    wall.advance(-3_600_000 + 1000);
    table.beat();
    expect(table.own.generation).toBe(wall.now());
    expect(table.own.heartbeat).toBe(0);
    expect(isNewer(table.own, ahead)).toBe(true);
    expect(table.own.generation).toBeGreaterThan(before.generation);
  });

  test("a node started ahead takes a generation from its clock once its peers read that clock as right, and not before", () => {
    const wall = testClock();
    const mono = testClock();
    const future = new FutureBound({ maxSkewMs: 500, clock: wall.now });
    // Started an hour ahead: its generation is from beyond every peer's bound.
    const startedMs = wall.now() + 3_600_000;
    const table = new MemberTable(SELF, startedMs, () => wall.now() + offsetMs, { staleAfterMs: STALE_AFTER_MS, deadAfterMs: DEAD_AFTER_MS }, { future, seeds: [A], monotonic: mono.now });
    let offsetMs = 3_600_000;
    table.observeClock(A, wall.now());
    table.clockReading();
    table.beat();
    expect(table.own.generation).toBe(startedMs);
    // Set right, but no peer heard since to say which clock is right: its generation stays.
    offsetMs = 0;
    const noWord = new MemberTable(SELF, startedMs, wall.now, { staleAfterMs: STALE_AFTER_MS, deadAfterMs: DEAD_AFTER_MS }, { future, monotonic: mono.now });
    noWord.beat();
    expect(noWord.own.generation).toBe(startedMs);
    // Its peer's clock reads it right now: a generation from its clock, which peers take.
    table.observeClock(A, wall.now());
    table.clockReading();
    table.beat();
    expect(table.own).toMatchObject({ generation: wall.now(), heartbeat: 0 });
    expect(future.accepts("generation", table.own.generation)).toBe(true);
  });

  test("a step back within the skew keeps the generation: the heartbeat rises by one", () => {
    const wall = testClock();
    const future = new FutureBound({ maxSkewMs: 500, clock: wall.now });
    const table = new MemberTable(SELF, wall.now(), wall.now, { staleAfterMs: STALE_AFTER_MS, deadAfterMs: DEAD_AFTER_MS }, { future });
    wall.advance(10_000);
    table.beat();
    const { generation, heartbeat } = table.own;
    wall.advance(-400);
    table.beat();
    expect(table.own).toMatchObject({ generation, heartbeat: heartbeat + 1 });
  });
});
