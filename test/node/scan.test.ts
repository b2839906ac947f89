// ClusterScan over in-process replicas: a cursor taken on one ring is continued on another (a member joined),
// every key still visited once in ring order; a replica that fails is stood in for by another of its arc.
import { expect, test } from "bun:test";
import { arcsOf, type Arc } from "../../src/ring/arcs.ts";
import { buildRing } from "../../src/ring/ring.ts";
import type { RingRange } from "../../src/ring/range.ts";
import { ClusterScan, type RangePage } from "../../src/node/scan.ts";
import { NodeError } from "../../src/node/errors.ts";
import { ringSlice } from "../../src/store/ring-order.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { ringPosition } from "../../src/store/segments.ts";

const [A, B, C] = ["http://127.0.0.1:7001", "http://127.0.0.1:7002", "http://127.0.0.1:7003"];
/** Records per replica answer: small, so stretches take several pages. */
const REPLICA_PAGE = 40;

const records: StoredRecord[] = Array.from({ length: 600 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, version: { wallMs: 1, counter: i, node: A }, tombstone: false, expiresAtMs: undefined }));

/** A replica's answer: every replica here holds every record (what the scan reads is where, not what). */
function readRange(ranges: readonly RingRange[]): (after: string | undefined) => RangePage {
  return (after) => {
    const page = ringSlice(records, ranges[0]!, after, REPLICA_PAGE);
    return { records: page, next: page.length === REPLICA_PAGE ? page.at(-1)!.key : undefined };
  };
}

function scanOver(arcs: () => readonly Arc[], failing: ReadonlySet<string> = new Set(), asked: string[] = []): ClusterScan {
  return new ClusterScan({
    self: A,
    arcs,
    isDown: () => false,
    ready: () => undefined,
    local: async (ranges, _segments, after) => readRange(ranges)(after),
    remote: async (target, ranges, _segments, after) => {
      asked.push(target);
      if (failing.has(target)) throw new NodeError("unavailable", `${target} is unreachable`);
      return readRange(ranges)(after);
    },
    now: () => 0,
  });
}

function inRingOrder(keys: readonly string[]): boolean {
  return keys.every((key, i) => i === 0 || ringPosition(keys[i - 1]!) < ringPosition(key) || (ringPosition(keys[i - 1]!) === ringPosition(key) && keys[i - 1]! < key));
}

test("a cursor from one ring is continued on the next: every key once, in ring order", async () => {
  const before = arcsOf(buildRing([A, B], 16), 1);
  const after = arcsOf(buildRing([A, B, C], 16), 1);
  let arcs = before;
  const scan = scanOver(() => arcs);
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; ; page++) {
    // Three pages on the two-node ring, the rest on the ring C joined.
    if (page === 3) arcs = after;
    const answer = await scan.page(cursor, 50);
    seen.push(...answer.entries.map((entry) => entry.key));
    if (answer.next === null) break;
    cursor = answer.next;
  }
  expect(seen.length).toBe(records.length);
  expect(new Set(seen).size).toBe(records.length);
  expect(inRingOrder(seen)).toBe(true);
});

test("a replica that fails is stood in for by another replica of its arc", async () => {
  const arcs = arcsOf(buildRing([A, B, C], 16), 2);
  const asked: string[] = [];
  const scan = scanOver(() => arcs, new Set([B]), asked);
  const seen: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const answer = await scan.page(cursor, 100);
    seen.push(...answer.entries.map((entry) => entry.key));
    if (answer.next === null) break;
    cursor = answer.next;
  }
  expect(seen.toSorted()).toEqual(records.map((record) => record.key).toSorted());
  // Arcs without this node went to B first and, as it failed, to C.
  expect(asked).toContain(B);
  expect(asked).toContain(C);
});

test("when every replica of a stretch fails, the page fails as unavailable", async () => {
  const arcs = arcsOf(buildRing([A, B, C], 16), 1);
  const scan = scanOver(() => arcs, new Set([B, C]));
  let cursor: string | undefined;
  const error = await (async () => {
    for (;;) {
      const answer = await scan.page(cursor, 100);
      if (answer.next === null) return undefined;
      cursor = answer.next;
    }
  })().catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(NodeError);
  expect((error as NodeError).code).toBe("unavailable");
});
