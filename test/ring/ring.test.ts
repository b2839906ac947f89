// The ring: placement identical to the Go original, balance, minimal movement, idempotent changes and exact ranges.
import { describe, expect, test } from "bun:test";
import { HASH_SPACE, joinHalves, xxHash64, type Hash64 } from "../../src/ring/hash.ts";
import { pointRanges, ringShares, toDegrees } from "../../src/ring/ranges.ts";
import { buildRing, ownerOf, replicasOf, withNode, withoutNode, type Ring } from "../../src/ring/ring.ts";

const NODES = [1, 2, 3, 4].map((i) => `http://127.0.0.${i}:8484`);
const NODE5 = "http://127.0.0.5:8484";

function keys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `key-${i}`);
}

/** Every point hash of the ring, in ring order. */
function pointHashes(ring: Ring): bigint[] {
  return Array.from(ring.pointHigh, (high, p) => joinHalves(high, ring.pointLow[p]!));
}

/** A hash that returns fixed values, so ties and exact positions can be set up by hand. */
function fakeHash(table: Record<string, bigint>, fallback = 0n): Hash64 {
  return (text) => table[text] ?? fallback;
}

describe("hash", () => {
  test.each([
    ["a", 15154266338359012955n],
    ["", 17241709254077376921n],
  ])("xxHash64(%j) is the XXH64 reference value with seed 0", (text, expected) => {
    expect(xxHash64(text)).toBe(expected);
  });
});

describe("placement matches the Go original", () => {
  // Owners by the original's rule (point i of node U at XXH64 of "U:i"; a key goes to the first point at or after its
  // hash), worked out apart from this code with an independent XXH64, which also gives the original's own vector.
  test.each([
    [256, "user:1", "http://127.0.0.3:8484"],
    [256, "key-42", "http://127.0.0.2:8484"],
    [1, "user:2", "http://127.0.0.4:8484"],
    [0, "user:2", "http://127.0.0.4:8484"],
  ])("with %i vnodes per node, %s is owned by %s", (vnodes, key, owner) => {
    expect(ownerOf(buildRing(NODES, vnodes), key)).toBe(owner);
  });

  test("VIRTUAL_NODES=0 places every key exactly as one point per node does", () => {
    const zero = buildRing(NODES, 0);
    const one = buildRing(NODES, 1);
    expect(pointHashes(zero)).toEqual(pointHashes(one));
    expect(pointHashes(zero)).toHaveLength(NODES.length);
    expect(keys(2000).every((key) => ownerOf(zero, key) === ownerOf(one, key))).toBe(true);
  });

  test("point i of node U is XXH64 of U:i", () => {
    const ring = buildRing(["http://127.0.0.1:8484"], 3);
    const expected = [0, 1, 2].map((i) => xxHash64(`http://127.0.0.1:8484:${i}`)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(pointHashes(ring)).toEqual(expected);
  });

  test("the order nodes are given in does not change placement", () => {
    const forward = buildRing(NODES, 64);
    const backward = buildRing([...NODES].reverse(), 64);
    expect(keys(2000).every((key) => ownerOf(forward, key) === ownerOf(backward, key))).toBe(true);
  });

  test("an empty ring owns nothing and has no replicas", () => {
    const ring = buildRing([], 256);
    expect(ownerOf(ring, "k")).toBeUndefined();
    expect(replicasOf(ring, "k", 3)).toEqual([]);
  });
});

describe("balance and movement", () => {
  test("with 4 nodes of 256 vnodes, each node owns between 20% and 30% of 100k keys", () => {
    const ring = buildRing(NODES, 256);
    const counts = new Map<string, number>();
    const all = keys(100_000);
    for (const key of all) {
      const owner = ownerOf(ring, key) ?? "none";
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(NODES);
    for (const count of counts.values()) {
      expect(count / all.length).toBeGreaterThan(0.2);
      expect(count / all.length).toBeLessThan(0.3);
    }
  });

  test("ring shares sum to 1 and each lies near a quarter", () => {
    const shares = ringShares(pointRanges(buildRing(NODES, 256)));
    expect([...shares.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (const share of shares.values()) {
      expect(share).toBeGreaterThan(0.2);
      expect(share).toBeLessThan(0.3);
    }
  });

  test("adding a 5th node moves about a fifth of the keys, and only to the new node", () => {
    const before = buildRing(NODES, 256);
    const after = withNode(before, NODE5);
    const all = keys(50_000);
    const moved = all.filter((key) => ownerOf(before, key) !== ownerOf(after, key));
    expect(moved.length / all.length).toBeGreaterThan(0.1);
    expect(moved.length / all.length).toBeLessThan(0.3);
    expect(moved.every((key) => ownerOf(after, key) === NODE5)).toBe(true);
  });

  test("removing a node moves only the keys it owned", () => {
    const before = buildRing([...NODES, NODE5], 256);
    const after = withoutNode(before, NODE5);
    const moved = keys(20_000).filter((key) => ownerOf(before, key) !== ownerOf(after, key));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((key) => ownerOf(before, key) === NODE5)).toBe(true);
  });
});

describe("membership changes", () => {
  test("adding a node twice returns the same ring value", () => {
    const once = withNode(buildRing(NODES, 16), NODE5);
    expect(withNode(once, NODE5)).toBe(once);
  });

  test("adding a node that is already there returns the same ring", () => {
    const ring = buildRing(NODES, 16);
    expect(withNode(ring, NODES[0]!)).toBe(ring);
  });

  test("removing an absent node returns the same ring", () => {
    const ring = buildRing(NODES, 16);
    expect(withoutNode(ring, NODE5)).toBe(ring);
  });

  test("adding then removing a node gives back the same placement", () => {
    const ring = buildRing(NODES, 16);
    const back = withoutNode(withNode(ring, NODE5), NODE5);
    expect(back.nodes).toEqual(ring.nodes);
    expect(pointHashes(back)).toEqual(pointHashes(ring));
    expect(Array.from(back.pointOwner)).toEqual(Array.from(ring.pointOwner));
  });

  test("a change builds a new ring and leaves the old one untouched", () => {
    const ring = buildRing(NODES, 16);
    const hashes = pointHashes(ring);
    const grown = withNode(ring, NODE5);
    expect(grown).not.toBe(ring);
    expect(ring.nodes).toEqual(NODES);
    expect(pointHashes(ring)).toEqual(hashes);
    expect(grown.nodes).toEqual([...NODES, NODE5]);
    expect(grown.pointHigh).toHaveLength(5 * 16);
  });

  test("duplicate URLs count once", () => {
    const ring = buildRing([NODES[0]!, NODES[0]!, NODES[1]!], 8);
    expect(ring.nodes).toEqual([NODES[0]!, NODES[1]!]);
    expect(ring.pointHigh).toHaveLength(16);
  });
});

describe("replicas", () => {
  test.each([1, 2, 3, 4])("%i replicas are distinct nodes, the first being the owner", (count) => {
    const ring = buildRing(NODES, 64);
    for (const key of keys(500)) {
      const replicas = replicasOf(ring, key, count);
      expect(replicas).toHaveLength(count);
      expect(new Set(replicas).size).toBe(count);
      expect(replicas[0]).toBe(ownerOf(ring, key)!);
    }
  });

  test.each([
    [5, 4],
    [16, 4],
    [0, 0],
  ])("asking for %i replicas of a 4-node ring gives %i", (count, expected) => {
    expect(replicasOf(buildRing(NODES, 64), "user:1", count)).toHaveLength(expected);
  });

  test("replicas are the next distinct nodes met walking clockwise", () => {
    // Points: a at 10, a at 20, b at 30, c at 40. A key at 15 meets a, then a again, then b, then c.
    const hash = fakeHash({ "http://127.0.0.1:0": 10n, "http://127.0.0.1:1": 20n, "http://127.0.0.2:0": 30n, "http://127.0.0.2:1": 30n, "http://127.0.0.3:0": 40n, "http://127.0.0.3:1": 40n, key: 15n, wraps: 45n });
    const ring = buildRing(["http://127.0.0.3", "http://127.0.0.2", "http://127.0.0.1"], 2, hash);
    expect(replicasOf(ring, "key", 3)).toEqual(["http://127.0.0.1", "http://127.0.0.2", "http://127.0.0.3"]);
    expect(replicasOf(ring, "wraps", 2)).toEqual(["http://127.0.0.1", "http://127.0.0.2"]);
  });
});

describe("ties and wrap-around", () => {
  test.each([
    [["http://127.0.0.2", "http://127.0.0.1"]],
    [["http://127.0.0.1", "http://127.0.0.2"]],
  ])("points on the same hash go to the lower node URL whatever the input order (%j)", (nodes) => {
    const ring = buildRing(nodes, 1, fakeHash({ "http://127.0.0.1:0": 100n, "http://127.0.0.2:0": 100n, below: 50n, exact: 100n }));
    expect(ownerOf(ring, "below")).toBe("http://127.0.0.1");
    expect(ownerOf(ring, "exact")).toBe("http://127.0.0.1");
    expect(replicasOf(ring, "below", 2)).toEqual(["http://127.0.0.1", "http://127.0.0.2"]);
  });

  test.each([
    ["a key below every point goes to the first point", 5n, "http://127.0.0.1"],
    ["a key on a point goes to that point", 200n, "http://127.0.0.2"],
    ["a key between points goes to the next point", 150n, "http://127.0.0.2"],
    ["a key after the last point wraps to the first", 2n ** 64n - 1n, "http://127.0.0.1"],
  ])("%s", (_name, keyHash, owner) => {
    const ring = buildRing(["http://127.0.0.1", "http://127.0.0.2"], 1, fakeHash({ "http://127.0.0.1:0": 100n, "http://127.0.0.2:0": 200n, key: keyHash }));
    expect(ownerOf(ring, "key")).toBe(owner);
  });
});

describe("ranges", () => {
  const sum = (values: Iterable<bigint>) => [...values].reduce((a, b) => a + b, 0n);

  test.each([
    ["4 nodes of 256 vnodes", buildRing(NODES, 256)],
    ["4 nodes of one point", buildRing(NODES, 0)],
    ["two nodes on hand-placed points", buildRing(["http://127.0.0.1", "http://127.0.0.2"], 1, fakeHash({ "http://127.0.0.1:0": 0n, "http://127.0.0.2:0": 2n ** 64n - 1n }))],
    ["two nodes whose points all tie", buildRing(["http://127.0.0.1", "http://127.0.0.2"], 2, fakeHash({}, 7n))],
    ["one node on one point", buildRing([NODES[0]!], 1)],
  ])("the ranges of %s cover the hash space exactly once", (_name, ring) => {
    const ranges = pointRanges(ring);
    const all = [...ranges.values()].flat();
    expect(all).toHaveLength(ring.pointHigh.length);
    expect(sum(all.map((r) => r.size))).toBe(HASH_SPACE);
    expect([...ringShares(ranges).values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  test("each range ends at one of its node's points and starts just after the previous point", () => {
    const ring = buildRing(NODES, 8);
    const ranges = pointRanges(ring);
    for (const [node, list] of ranges) {
      const own = Array.from({ length: 8 }, (_, i) => xxHash64(`${node}:${i}`)).sort((a, b) => (a < b ? -1 : 1));
      expect(list.map((r) => r.end).sort((a, b) => (a < b ? -1 : 1))).toEqual(own);
    }
    const hashes = pointHashes(ring);
    const ordered = [...ranges.values()].flat().sort((a, b) => (a.end < b.end ? -1 : 1));
    ordered.forEach((range, p) => {
      const previous = hashes[(p + hashes.length - 1) % hashes.length]!;
      expect(range.start).toBe((previous + 1n) % HASH_SPACE);
      expect(range.size).toBe((range.end - range.start + 1n + HASH_SPACE) % HASH_SPACE);
    });
  });

  test("a one-node one-point ring owns the whole space of 2^64 hashes", () => {
    const ranges = pointRanges(buildRing(["http://127.0.0.1:1"], 0));
    expect(ranges.get("http://127.0.0.1:1")).toHaveLength(1);
    expect(ranges.get("http://127.0.0.1:1")?.[0]?.size).toBe(2n ** 64n);
    expect(ringShares(ranges).get("http://127.0.0.1:1")).toBe(1);
  });

  test("a key hash inside a range is owned by that range's node", () => {
    const ring = buildRing(NODES, 16);
    for (const [node, list] of pointRanges(ring)) {
      for (const range of list) {
        const inside = range.start + range.size / 2n;
        const probe = buildRing(NODES, 16, (text) => (text === "probe" ? inside % HASH_SPACE : xxHash64(text)));
        expect(ownerOf(probe, "probe")).toBe(node);
      }
    }
  });

  test.each([0n, 1n, 2n ** 62n, 2n ** 63n, 3n * 2n ** 62n, HASH_SPACE - 2n ** 40n, HASH_SPACE - 1n])("toDegrees(%p) lies in [0, 360)", (hash) => {
    const degrees = toDegrees(hash);
    expect(degrees).toBeGreaterThanOrEqual(0);
    expect(degrees).toBeLessThan(360);
  });

  test.each([
    [0n, 0],
    [2n ** 62n, 90],
    [2n ** 63n, 180],
    [3n * 2n ** 62n, 270],
  ])("toDegrees(%p) is %p", (hash, degrees) => {
    expect(toDegrees(hash)).toBe(degrees);
  });
});
