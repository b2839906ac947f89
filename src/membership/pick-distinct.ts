// Random choice without repeats, for gossip targets and anti-entropy's order of peers.

/** Up to `count` distinct items in random order: a partial Fisher-Yates shuffle. */
export function pickDistinct<T>(items: readonly T[], count: number, random: () => number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) {
    const index = Math.floor(random() * pool.length);
    out.push(pool[index]!);
    pool.splice(index, 1);
  }
  return out;
}
