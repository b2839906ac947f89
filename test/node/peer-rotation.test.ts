// The order anti-entropy compares with its peers: each once per cycle, a peer back from being down first.
import { describe, expect, test } from "bun:test";
import { PeerRotation, REMEMBERED_PEERS_MAX } from "../../src/node/peer-rotation.ts";
import { seededRandom } from "../support/seeded-random.ts";

const PEERS = ["http://10.0.6.1:8484", "http://10.0.6.2:8484", "http://10.0.6.3:8484", "http://10.0.6.4:8484"];
const [P1, P2, P3, P4] = PEERS as [string, string, string, string];

function take(rotation: PeerRotation, peers: readonly string[], count: number): string[] {
  return Array.from({ length: count }, () => rotation.next(peers)!);
}

describe("PeerRotation", () => {
  test("each live peer once per cycle, in a fresh order each cycle", () => {
    const rotation = new PeerRotation(seededRandom(7));
    const cycles = Array.from({ length: 6 }, () => take(rotation, PEERS, PEERS.length));
    for (const cycle of cycles) expect(cycle.toSorted()).toEqual(PEERS);
    expect(new Set(cycles.map((cycle) => cycle.join())).size).toBeGreaterThan(1);
  });

  test("no peers, no choice", () => {
    expect(new PeerRotation(Math.random).next([])).toBeUndefined();
  });

  test("a peer no longer live is skipped, and one that joins enters the next cycle", () => {
    const rotation = new PeerRotation(() => 0);
    const first = rotation.next(PEERS)!;
    const rest = PEERS.filter((peer) => peer !== first);
    const gone = rest[0]!;
    const live = PEERS.filter((peer) => peer !== gone);
    expect(take(rotation, live, 2).toSorted()).toEqual(rest.slice(1).toSorted());
    const joined = "http://10.0.6.5:8484";
    expect(take(rotation, [...live, joined], 4).toSorted()).toEqual([...live, joined].toSorted());
  });

  test("a peer that was down and came back is compared with next, once", () => {
    const rotation = new PeerRotation(() => 0);
    rotation.look(PEERS, 0);
    rotation.look([P1, P2, P4], 0);
    expect(rotation.due).toBe(false);
    rotation.look(PEERS, 0);
    expect(rotation.due).toBe(true);
    expect(rotation.next(PEERS)).toBe(P3);
    expect(rotation.due).toBe(false);
    // The rest of the cycle: every peer, P3 among them (its comparison above did not use up a cycle's turn of another).
    expect(take(rotation, PEERS, 4).toSorted()).toEqual(PEERS);
  });

  test("the first look and a peer never seen up (a node joining) are not returns", () => {
    const rotation = new PeerRotation(() => 0);
    rotation.look([P1, P2], 0);
    expect(rotation.due).toBe(false);
    rotation.look([P1, P2, P3], 0);
    expect(rotation.due).toBe(false);
  });

  test("a peer that came back and went down again before its turn is not chosen", () => {
    const rotation = new PeerRotation(() => 0);
    rotation.look(PEERS, 0);
    rotation.look([P1, P2], 0);
    rotation.look([P1, P2, P3, P4], 0);
    expect(rotation.due).toBe(true);
    expect(rotation.next([P1, P2, P4])).toBe(P4);
    expect(rotation.next([P1, P2, P4])).not.toBe(P3);
  });

  test("a peer asked for again comes first at the first look from that time on", () => {
    const rotation = new PeerRotation(() => 0);
    rotation.look(PEERS, 0);
    rotation.again(P2, 5_000);
    rotation.look(PEERS, 4_999);
    expect(rotation.due).toBe(false);
    rotation.look(PEERS, 5_000);
    expect(rotation.due).toBe(true);
    expect(rotation.next(PEERS)).toBe(P2);
    rotation.look(PEERS, 60_000);
    expect(rotation.due).toBe(false);
  });

  test("remembers at most REMEMBERED_PEERS_MAX peers, dropping the longest unseen", () => {
    const rotation = new PeerRotation(() => 0);
    const many = Array.from({ length: REMEMBERED_PEERS_MAX + 1 }, (_, i) => `http://10.1.${i >> 8}.${i & 255}:8484`);
    rotation.look(many, 0);
    rotation.look([], 0);
    // The first of them was pushed out of memory by the last: back now, it counts as a join.
    rotation.look([many[0]!], 0);
    expect(rotation.due).toBe(false);
    rotation.look([], 0);
    rotation.look([many.at(-1)!], 0);
    expect(rotation.due).toBe(true);
  });
});
