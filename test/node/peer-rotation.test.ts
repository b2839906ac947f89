// The order anti-entropy compares with its peers: each once per cycle, a peer back from being down first.
import { describe, expect, test } from "bun:test";
import { PeerRotation, REMEMBERED_PEERS_MAX, RETURN_SPACING_MS } from "../../src/node/peer-rotation.ts";
import { seededRandom } from "../support/seeded-random.ts";

const PEERS = ["http://127.0.6.1:8484", "http://127.0.6.2:8484", "http://127.0.6.3:8484", "http://127.0.6.4:8484"];
const [P1, P2, P3, P4] = PEERS as [string, string, string, string];

function take(rotation: PeerRotation, peers: readonly string[], count: number): string[] {
  return Array.from({ length: count }, () => rotation.next(peers, 0)!);
}

describe("PeerRotation", () => {
  test("each live peer once per cycle, in a fresh order each cycle", () => {
    const rotation = new PeerRotation(seededRandom(7));
    const cycles = Array.from({ length: 6 }, () => take(rotation, PEERS, PEERS.length));
    for (const cycle of cycles) expect(cycle.toSorted()).toEqual(PEERS);
    expect(new Set(cycles.map((cycle) => cycle.join())).size).toBeGreaterThan(1);
  });

  test("no peers, no choice", () => {
    expect(new PeerRotation(Math.random).next([], 0)).toBeUndefined();
  });

  test("a peer no longer live is skipped, and one that joins enters the next cycle", () => {
    const rotation = new PeerRotation(() => 0);
    const first = rotation.next(PEERS, 0)!;
    const rest = PEERS.filter((peer) => peer !== first);
    const gone = rest[0]!;
    const live = PEERS.filter((peer) => peer !== gone);
    expect(take(rotation, live, 2).toSorted()).toEqual(rest.slice(1).toSorted());
    const joined = "http://127.0.6.5:8484";
    expect(take(rotation, [...live, joined], 4).toSorted()).toEqual([...live, joined].toSorted());
  });

  test("a peer that was down and came back is compared with next, once", () => {
    const rotation = new PeerRotation(() => 0);
    rotation.look(PEERS, 0);
    rotation.look([P1, P2, P4], 0);
    expect(rotation.due).toBe(false);
    rotation.look(PEERS, 0);
    expect(rotation.due).toBe(true);
    expect(rotation.next(PEERS, 0)).toBe(P3);
    expect(rotation.due).toBe(false);
    // It keeps its turn in the cycle as well (the exchange right after a return may fail): the cycle is every peer.
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
    // P3 went down again: only P4 is still waiting.
    expect(rotation.next([P1, P2, P4], 0)).toBe(P4);
    expect(rotation.due).toBe(false);
  });

  test("a peer asked for again comes first at the first look from that time on", () => {
    const rotation = new PeerRotation(() => 0);
    rotation.look(PEERS, 0);
    rotation.again(P2, 5_000);
    rotation.look(PEERS, 4_999);
    expect(rotation.due).toBe(false);
    rotation.look(PEERS, 5_000);
    expect(rotation.due).toBe(true);
    expect(rotation.next(PEERS, 0)).toBe(P2);
    rotation.look(PEERS, 60_000);
    expect(rotation.due).toBe(false);
  });

  test("a peer put first after its return keeps its turn in the cycle as well", () => {
    const rotation = new PeerRotation(() => 0);
    rotation.look(PEERS, 0);
    const started = rotation.next(PEERS, 0)!;
    const later = PEERS.find((peer) => peer !== started)!;
    rotation.look(PEERS.filter((peer) => peer !== later), 0);
    rotation.look(PEERS, 0);
    expect(rotation.next(PEERS, 0)).toBe(later);
    // The rest of the cycle still holds it: its comparison on return may have failed.
    expect(take(rotation, PEERS, PEERS.length - 1)).toContain(later);
  });

  test("a peer back within RETURN_SPACING_MS of its last comparison is not put first (a flapping failure detector)", () => {
    const rotation = new PeerRotation(() => 0);
    rotation.look(PEERS, 0);
    const peer = rotation.next(PEERS, 1_000)!;
    const others = PEERS.filter((p) => p !== peer);
    rotation.look(others, 2_000);
    rotation.look(PEERS, 3_000);
    expect(rotation.due).toBe(false);
    rotation.look(others, 1_000 + RETURN_SPACING_MS);
    rotation.look(PEERS, 1_000 + RETURN_SPACING_MS);
    expect(rotation.due).toBe(true);
    expect(rotation.next(PEERS, 1_000 + RETURN_SPACING_MS)).toBe(peer);
  });

  test("never the same peer twice in a row from the cycle, and every peer within 2 × peers − 1 rounds", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rotation = new PeerRotation(seededRandom(seed));
      const peers = PEERS.slice(0, 2 + (seed % 3));
      const picks = take(rotation, peers, peers.length * 5);
      for (let i = 1; i < picks.length; i++) expect(picks[i]).not.toBe(picks[i - 1]);
      for (const peer of peers) {
        const at = picks.flatMap((p, i) => (p === peer ? [i] : []));
        for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeLessThanOrEqual(2 * peers.length - 1);
      }
    }
  });

  test("remembers at most REMEMBERED_PEERS_MAX peers, dropping the longest unseen", () => {
    const rotation = new PeerRotation(() => 0);
    const many = Array.from({ length: REMEMBERED_PEERS_MAX + 1 }, (_, i) => `http://127.1.${i >> 8}.${i & 255}:8484`);
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
