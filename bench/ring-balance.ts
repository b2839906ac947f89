// Ring balance: each node's share of the hash space and of a set of keys as owner, against an even share.
import { pointRanges, ringShares } from "../src/ring/ranges.ts";
import { ownerOf, type Ring } from "../src/ring/ring.ts";
import { againstBaseline, type Figure } from "./figures.ts";

/** Keys counted per owner: at 100k the sampling noise of a 1/4 share is about 0.14 points, below the ring's own spread. */
const BALANCE_KEYS = 100_000;

/** Each node's share in percent, in the ring's node order. */
type Shares = ReadonlyMap<string, number>;

function keyShares(ring: Ring): Shares {
  const owned = new Map<string, number>(ring.nodes.map((node) => [node, 0]));
  for (let i = 0; i < BALANCE_KEYS; i++) {
    const owner = ownerOf(ring, `balance:${i}`);
    if (owner !== undefined) owned.set(owner, (owned.get(owner) ?? 0) + 1);
  }
  return new Map([...owned].map(([node, count]) => [node, (count * 100) / BALANCE_KEYS]));
}

function spaceShares(ring: Ring): Shares {
  return new Map([...ringShares(pointRanges(ring))].map(([node, share]) => [node, share * 100]));
}

/** "http://127.0.0.3:8484" reads as "127.0.0.3" in a detail column. */
function host(url: string): string {
  return new URL(url).hostname;
}

function extremes(shares: Shares): { largest: [string, number]; smallest: [string, number] } {
  const sorted = [...shares].sort((a, b) => b[1] - a[1]);
  const largest = sorted[0];
  const smallest = sorted[sorted.length - 1];
  if (largest === undefined || smallest === undefined) throw new Error("bench: a ring without nodes has no balance");
  return { largest, smallest };
}

function balanceFigures(group: string, nodes: number, shares: Shares): Figure[] {
  const { largest, smallest } = extremes(shares);
  const all = [...shares].map(([node, share]) => `${host(node)} ${share.toFixed(2)}`).join(", ");
  return againstBaseline("ring", group, "%", { name: `even share (1/${nodes})`, value: 100 / nodes, detail: `shares: ${all} %` }, [
    { name: "largest share", value: largest[1], detail: `${host(largest[0])}; largest ÷ smallest ${(largest[1] / smallest[1]).toFixed(3)}×` },
    { name: "smallest share", value: smallest[1], detail: host(smallest[0]) },
  ]);
}

export function ringBalance(ring: Ring): { figures: Figure[]; note: string } {
  const points = `${ring.nodes.length}×${ring.vnodesPerNode} points`;
  const space = spaceShares(ring);
  const keys = keyShares(ring);
  const figures = [
    ...balanceFigures(`balance, ${points} · share of the hash space`, ring.nodes.length, space),
    ...balanceFigures(`balance, ${points} · share of ${BALANCE_KEYS / 1000}k keys as owner`, ring.nodes.length, keys),
  ];
  const s = extremes(space);
  const k = extremes(keys);
  const note = `Balance: with ${ring.vnodesPerNode} vnodes per node the largest of ${ring.nodes.length} nodes owns ${s.largest[1].toFixed(1)}% of the hash space and the smallest ${s.smallest[1].toFixed(1)}% (largest ÷ smallest ${(s.largest[1] / s.smallest[1]).toFixed(2)}×; even is ${(100 / ring.nodes.length).toFixed(1)}%); over ${BALANCE_KEYS.toLocaleString("en-US")} keys the owners get ${k.smallest[1].toFixed(1)}% to ${k.largest[1].toFixed(1)}%, so a node's load follows its share of the space.`;
  return { figures, note };
}
