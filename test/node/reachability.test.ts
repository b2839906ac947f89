// Reachability on its own: a failed call marks a peer down for routing, a probe (never a client request) brings it back.
import { heard, PeerRefusal } from "../../src/node/peer-transport.ts";
import type { PeerOp } from "../../src/node/peer-wire.ts";
import { describe, expect, test } from "bun:test";
import { DOWN_ENTRIES_MAX, DOWN_FIRST_MS, DOWN_MAX_MS, observeReachability, Reachability } from "../../src/node/reachability.ts";
import { testClock } from "../support/app.ts";
import { until } from "../support/until.ts";

const PEER = "http://127.0.2.1:8484";

function build(answers: () => boolean) {
  const clock = testClock();
  const probes: string[] = [];
  const changes: [string, boolean][] = [];
  const reach = new Reachability({
    now: clock.now,
    probe: async (target) => {
      probes.push(target);
      return answers();
    },
    onChange: (target, down) => changes.push([target, down]),
  });
  return { clock, reach, probes, changes };
}

describe("reachability", () => {
  test("a peer is up until a call to it fails; then down, with no probe before DOWN_FIRST_MS", () => {
    const { reach, clock, probes, changes } = build(() => false);
    expect(reach.isDown(PEER)).toBe(false);
    reach.failed(PEER);
    expect(reach.isDown(PEER)).toBe(true);
    clock.advance(DOWN_FIRST_MS - 1);
    expect(reach.isDown(PEER)).toBe(true);
    expect(probes).toEqual([]);
    expect(changes).toEqual([[PEER, true]]);
  });

  test("once the wait is over a single probe goes out; an answer brings the peer back", async () => {
    const { reach, clock, probes, changes } = build(() => true);
    reach.failed(PEER);
    clock.advance(DOWN_FIRST_MS);
    // Still down while the probe is out: no client request is the one that waits on the peer.
    expect(reach.isDown(PEER)).toBe(true);
    expect(reach.isDown(PEER)).toBe(true);
    await until("the probe is answered", () => !reach.isDown(PEER));
    expect(probes).toEqual([PEER]);
    expect(changes).toEqual([
      [PEER, true],
      [PEER, false],
    ]);
  });

  test("each unanswered probe doubles the wait before the next, up to DOWN_MAX_MS", async () => {
    const { reach, clock, probes } = build(() => false);
    reach.failed(PEER);
    let wait = DOWN_FIRST_MS;
    for (let round = 1; round <= 6; round++) {
      clock.advance(wait - 1);
      reach.isDown(PEER);
      await Bun.sleep(0);
      expect(probes).toHaveLength(round - 1);
      clock.advance(1);
      reach.isDown(PEER);
      await until(`probe ${round} is sent`, () => probes.length === round);
      // Its failure is taken in before the next wait starts.
      await Bun.sleep(0);
      wait = Math.min(DOWN_MAX_MS, wait * 2);
    }
    expect(wait).toBe(DOWN_MAX_MS);
    expect(reach.isDown(PEER)).toBe(true);
  });

  test("any answer to a call brings a peer back at once, and a further failure while down changes nothing", () => {
    const { reach, changes } = build(() => false);
    reach.failed(PEER);
    reach.failed(PEER);
    reach.answered(PEER);
    expect(reach.isDown(PEER)).toBe(false);
    expect(changes).toEqual([
      [PEER, true],
      [PEER, false],
    ]);
  });

  test("the table of down peers is bounded: the oldest is forgotten (and so counts as up)", () => {
    const { reach } = build(() => false);
    const peers = Array.from({ length: DOWN_ENTRIES_MAX + 1 }, (_, i) => `http://127.0.3.${i % 250}:${8000 + i}`);
    for (const peer of peers) reach.failed(peer);
    expect(reach.downPeers()).toHaveLength(DOWN_ENTRIES_MAX);
    expect(reach.isDown(peers[0]!)).toBe(false);
    expect(reach.isDown(peers.at(-1)!)).toBe(true);
  });
});

describe("the observer", () => {
  const call = (op: PeerOp) => ({ op, target: PEER });

  test("a call that gets no answer marks the peer down; one answered with any status, or a refusal, marks it up", async () => {
    const { reach } = build(() => false);
    const listener = observeReachability(reach);
    await expect(heard(listener, call("get"), Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    expect(reach.isDown(PEER)).toBe(true);
    const answer = await heard(listener, call("get"), Promise.resolve(new Response("no", { status: 503 })));
    expect(answer.status).toBe(503);
    expect(reach.isDown(PEER)).toBe(false);
    await expect(heard(listener, call("get"), Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    expect(reach.isDown(PEER)).toBe(true);
    await expect(heard(listener, call("put"), Promise.reject(new PeerRefusal("unavailable", "its store failed", "store_unavailable")))).rejects.toThrow("its store failed");
    expect(reach.isDown(PEER)).toBe(false);
  });

  test("a gossip call that fails does not mark the peer down: its short timeout misses under load", async () => {
    const { reach } = build(() => false);
    const listener = observeReachability(reach);
    await expect(heard(listener, call("gossip"), Promise.reject(new Error("timeout")))).rejects.toThrow("timeout");
    expect(reach.isDown(PEER)).toBe(false);
  });
});
