// Arcs, shared ranges and moves agree key by key with replicasOf, the placement rule every node routes by.
import { describe, expect, test } from "bun:test";
import { arcsOf, movesBetween, rangesOf, sharedRanges, type Arc } from "../../src/ring/arcs.ts";
import { rangeHolds, RING_MAX, type RingRange } from "../../src/ring/range.ts";
import { buildRing, replicasOf } from "../../src/ring/ring.ts";
import { ringPosition } from "../../src/store/segments.ts";

const NODES = ["http://127.0.0.1:7001", "http://127.0.0.1:7002", "http://127.0.0.1:7003", "http://127.0.0.1:7004", "http://127.0.0.1:7005"];
const KEYS = Array.from({ length: 3000 }, (_, i) => `key-${i}`);

function arcOf(arcs: readonly Arc[], key: string): Arc {
  const position = ringPosition(key);
  const found = arcs.filter((arc) => rangeHolds(arc.range, position));
  expect(found).toHaveLength(1);
  return found[0]!;
}

const inAny = (ranges: readonly RingRange[], key: string) => ranges.some((range) => rangeHolds(range, ringPosition(key)));

describe("arcsOf", () => {
  test.each([
    [3, 16, 3],
    [5, 8, 3],
    [5, 64, 2],
    [2, 0, 3],
    [1, 4, 3],
  ])("%i nodes, %i vnodes, RF %i: every key's arc names exactly replicasOf's nodes, in order", (nodes, vnodes, rf) => {
    const ring = buildRing(NODES.slice(0, nodes), vnodes);
    const arcs = arcsOf(ring, rf);
    // The arcs tile the hash space with no gap and no overlap.
    expect(arcs[0]!.range.lo).toBe(0n);
    expect(arcs.at(-1)!.range.hi).toBe(RING_MAX);
    for (let i = 1; i < arcs.length; i++) expect(arcs[i]!.range.lo).toBe(arcs[i - 1]!.range.hi + 1n);
    for (const key of KEYS) expect(arcOf(arcs, key).replicas).toEqual(replicasOf(ring, key, rf));
  });

  test("an empty ring has no arcs", () => {
    expect(arcsOf(buildRing([], 8), 3)).toEqual([]);
  });
});

describe("sharedRanges and rangesOf", () => {
  test("hold exactly the keys both nodes replicate, or one does or does not", () => {
    const ring = buildRing(NODES, 32);
    const arcs = arcsOf(ring, 2);
    const [a, b] = [NODES[0]!, NODES[3]!];
    const shared = sharedRanges(arcs, a, b);
    const mine = rangesOf(arcs, a);
    const notMine = rangesOf(arcs, a, false);
    for (let i = 1; i < shared.length; i++) expect(shared[i]!.lo > shared[i - 1]!.hi + 1n).toBe(true);
    for (const key of KEYS) {
      const replicas = replicasOf(ring, key, 2);
      expect(inAny(shared, key)).toBe(replicas.includes(a) && replicas.includes(b));
      expect(inAny(mine, key)).toBe(replicas.includes(a));
      expect(inAny(notMine, key)).toBe(!replicas.includes(a));
    }
  });

  test("with as many copies as nodes, every pair shares the whole ring in one range", () => {
    const arcs = arcsOf(buildRing(NODES.slice(0, 3), 256), 3);
    expect(sharedRanges(arcs, NODES[0]!, NODES[2]!)).toEqual([{ lo: 0n, hi: RING_MAX }]);
  });
});

describe("movesBetween", () => {
  test.each([
    ["a node joins", NODES.slice(0, 3), NODES.slice(0, 4)],
    ["a node leaves", NODES.slice(0, 4), NODES.slice(0, 3)],
    ["one leaves and one joins", NODES.slice(0, 4), [...NODES.slice(1, 4), NODES[4]!]],
  ])("%s: a key is in a move exactly when its replica set changed, with the sets before and after", (_name, before, after) => {
    const rf = 3;
    const [ringBefore, ringAfter] = [buildRing(before, 32), buildRing(after, 32)];
    const moves = movesBetween(arcsOf(ringBefore, rf), arcsOf(ringAfter, rf));
    let moved = 0;
    for (const key of KEYS) {
      const [was, now] = [replicasOf(ringBefore, key, rf), replicasOf(ringAfter, key, rf)];
      const changed = was.length !== now.length || !was.every((node) => now.includes(node));
      const found = moves.filter((move) => rangeHolds(move.range, ringPosition(key)));
      expect(found).toHaveLength(changed ? 1 : 0);
      if (changed) {
        expect(found[0]!.before).toEqual(was);
        expect(found[0]!.after).toEqual(now);
        moved++;
      }
    }
    expect(moved).toBeGreaterThan(0);
  });

  test("the same ring moves nothing", () => {
    const arcs = arcsOf(buildRing(NODES, 16), 3);
    expect(movesBetween(arcs, arcs)).toEqual([]);
  });
});
