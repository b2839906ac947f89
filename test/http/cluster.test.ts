// The cluster routes through app.handle: membership, the ring in exact 64-bit integers, and the standalone gossip shape.
import { describe, expect, test } from "bun:test";
import { buildTestApp, NODE_URL, START_MS } from "../support/app.ts";

const HASH_SPACE = 1n << 64n;
const EXACT_FIELDS = ["start", "end", "hash", "size", "startHash", "endHash", "sizeHash"];
/** Matches `"field":123` so the digits can be read as BigInt before JSON.parse rounds them to doubles. */
const EXACT_FIELD = new RegExp(`"(${EXACT_FIELDS.join("|")})":(-?\\d+)`, "g");

interface RangeOut {
  start: bigint;
  end: bigint;
  hash: bigint;
  size: bigint;
}

interface DegreesOut {
  startHash: bigint;
  endHash: bigint;
  hash: bigint;
  sizeHash: bigint;
  startDegrees: number;
  endDegrees: number;
  sizeDegrees: number;
}

interface RingOut {
  currentNode: string;
  totalNodes: number;
  allNodes: string[];
  virtualNodes: number;
  virtualNodesPerNode: number;
  virtualNodeDistribution: Record<string, number>;
  shares: Record<string, number>;
  ranges: Record<string, RangeOut[]>;
  rangesDegrees: Record<string, DegreesOut[]>;
}

/** Parses the ring response keeping every 64-bit field exact, and checks each was written as raw digits. */
async function readRing(response: Response): Promise<{ ring: RingOut; text: string }> {
  const text = await response.text();
  for (const field of EXACT_FIELDS) expect(text).not.toMatch(new RegExp(`"${field}":"`));
  const quoted = text.replace(EXACT_FIELD, '"$1":"$2"');
  const ring = JSON.parse(quoted, function (this: unknown, key: string, value: unknown) {
    return EXACT_FIELDS.includes(key) && typeof value === "string" ? BigInt(value) : value;
  }) as RingOut;
  return { ring, text };
}

/** Every point of every node, as the SPEC defines them: XXH64(`url:i`), seed 0. */
function expectedPoints(urls: readonly string[], vnodes: number): bigint[] {
  return urls.flatMap((url) => Array.from({ length: Math.max(1, vnodes) }, (_, i) => Bun.hash.xxHash64(`${url}:${i}`, 0n))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

describe("/cluster/state", () => {
  test("a standalone node lists exactly itself, active", async () => {
    const { client } = buildTestApp();
    const response = await client.path("/api/v1/cluster/state");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect(await response.json()).toStrictEqual({
      nodeUrl: NODE_URL,
      peers: [NODE_URL],
      status: "active",
      totalNodes: 1,
      members: [{ url: NODE_URL, state: "active", generation: START_MS, heartbeat: 0, leaving: false, removed: false, reachable: true }],
      majority: { members: 1, reachable: 1, majority: true },
      replicationFactor: 1,
      replication: {
        factor: 3,
        writeQuorum: 1,
        readQuorum: 1,
        hintBacklog: 0,
        hintsByTarget: {},
        hintsDelivered: 0,
        readRepairs: 0,
        antiEntropyRepairs: 0,
        rebalance: { running: false, pending: false, passes: 0, streamed: 0, dropped: 0, lastPass: null },
      },
    });
  });

  test("peers are sorted and include this node", async () => {
    const others = ["http://127.0.0.9:8484", "http://127.0.0.1:8484"];
    const { client } = buildTestApp({ ringNodes: [NODE_URL, ...others] });
    const body = (await (await client.path("/api/v1/cluster/state")).json()) as { peers: string[]; totalNodes: number; replicationFactor: number };
    expect(body.peers).toEqual([...others, NODE_URL].sort());
    expect(body.totalNodes).toBe(3);
    expect(body.replicationFactor).toBe(3);
  });
});

describe("/cluster/ring", () => {
  test("a standalone node's ring has its 256 points, written as exact integers", async () => {
    const { client } = buildTestApp();
    const response = await client.path("/api/v1/cluster/ring");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    const { ring } = await readRing(response);

    expect(ring.currentNode).toBe(NODE_URL);
    expect(ring.totalNodes).toBe(1);
    expect(ring.allNodes).toEqual([NODE_URL]);
    expect(ring.virtualNodes).toBe(256);
    expect(ring.virtualNodesPerNode).toBe(256);
    expect(ring.virtualNodeDistribution).toEqual({ [NODE_URL]: 256 });
    expect(ring.shares).toEqual({ [NODE_URL]: 1 });
    const ranges = ring.ranges[NODE_URL] ?? [];
    expect(ranges.map((range) => range.end)).toEqual(expectedPoints([NODE_URL], 256));
    // At least one point needs more than 53 bits, so a rounded double would have shown up here.
    expect(ranges.some((range) => range.end > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
    expect(ranges.reduce((sum, range) => sum + range.size, 0n)).toBe(HASH_SPACE);
  });

  test("each range starts one past the previous point and ends at its own point, wrapping at 2^64", async () => {
    const { client } = buildTestApp({ virtualNodes: 16 });
    const { ring } = await readRing(await client.path("/api/v1/cluster/ring"));
    const ranges = ring.ranges[NODE_URL] ?? [];
    expect(ranges).toHaveLength(16);
    ranges.forEach((range, i) => {
      const previous = ranges[(i + ranges.length - 1) % ranges.length]!;
      expect(range.start).toBe((previous.end + 1n) % HASH_SPACE);
      expect(range.hash).toBe(range.end);
      expect(range.size).toBe((range.end - range.start + 1n + HASH_SPACE) % HASH_SPACE);
    });
  });

  test("with one point the node owns the whole space, 2^64 written as raw digits", async () => {
    const { client } = buildTestApp({ virtualNodes: 0 });
    const { ring, text } = await readRing(await client.path("/api/v1/cluster/ring"));
    expect(text).toContain(`"size":${HASH_SPACE}`);
    expect(ring.virtualNodes).toBe(1);
    expect(ring.virtualNodesPerNode).toBe(0);
    const [only] = ring.ranges[NODE_URL] ?? [];
    expect(only?.size).toBe(HASH_SPACE);
    expect(only?.end).toBe(Bun.hash.xxHash64(`${NODE_URL}:0`, 0n));
    expect(ring.shares).toEqual({ [NODE_URL]: 1 });
  });

  test("with several nodes the shares sum to 1 and the ranges cover the space exactly once", async () => {
    const urls = [NODE_URL, "http://127.0.0.1:7002", "http://127.0.0.1:7003"];
    const { client } = buildTestApp({ ringNodes: urls, virtualNodes: 64 });
    const { ring } = await readRing(await client.path("/api/v1/cluster/ring"));
    const sorted = [...urls].sort();
    expect(ring.allNodes).toEqual(sorted);
    expect(ring.totalNodes).toBe(3);
    expect(ring.virtualNodes).toBe(192);
    expect(Object.values(ring.virtualNodeDistribution).reduce((a, b) => a + b, 0)).toBe(192);
    expect(Object.keys(ring.shares).sort()).toEqual(sorted);
    expect(Object.values(ring.shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    for (const share of Object.values(ring.shares)) expect(share).toBeGreaterThan(0);
    const all = Object.values(ring.ranges).flat();
    expect(all.map((range) => range.end).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(expectedPoints(urls, 64));
    expect(all.reduce((sum, range) => sum + range.size, 0n)).toBe(HASH_SPACE);
    for (const url of urls) {
      const owned = (ring.ranges[url] ?? []).reduce((sum, range) => sum + range.size, 0n);
      expect(ring.shares[url]).toBeCloseTo(Number(owned) / Number(HASH_SPACE), 9);
    }
  });

  test.each([0, 1, 16, 256])("with %p vnodes every degree is in [0, 360) and the sizes add up to a full turn", async (vnodes) => {
    const { client } = buildTestApp({ virtualNodes: vnodes });
    const { ring } = await readRing(await client.path("/api/v1/cluster/ring"));
    const degrees = ring.rangesDegrees[NODE_URL] ?? [];
    const ranges = ring.ranges[NODE_URL] ?? [];
    expect(degrees).toHaveLength(Math.max(1, vnodes));
    degrees.forEach((entry, i) => {
      for (const value of [entry.startDegrees, entry.endDegrees]) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThan(360);
      }
      expect(entry.sizeDegrees).toBeGreaterThanOrEqual(0);
      expect(entry.sizeDegrees).toBeLessThanOrEqual(360);
      expect(entry.startHash).toBe(ranges[i]!.start);
      expect(entry.endHash).toBe(ranges[i]!.end);
      expect(entry.sizeHash).toBe(ranges[i]!.size);
    });
    // Each size is rounded to two decimals, so the sum may be off by up to half a hundredth per range.
    const turn = degrees.reduce((sum, entry) => sum + entry.sizeDegrees, 0);
    expect(Math.abs(turn - 360)).toBeLessThanOrEqual(0.005 * degrees.length + 1e-9);
  });
});

describe("/cluster/gossip", () => {
  test("a standalone node answers exactly the original's standalone shape", async () => {
    const { client } = buildTestApp();
    const response = await client.path("/api/v1/cluster/gossip");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect(await response.json()).toStrictEqual({
      node_url: NODE_URL,
      node_heartbeat: 0,
      status: "standalone",
      cluster_health: "N/A",
      total_peers: 0,
    });
  });
});
