// Finds consecutive free TCP ports on 127.0.0.1, for a process that places its nodes at BASE_PORT, BASE_PORT+1, ...

/** Bases are drawn below Linux's ephemeral range (32768+), so ports the kernel hands out for port 0 never collide. */
const BASE_LOW = 20_000;
const BASE_HIGH = 32_000;
const ATTEMPTS_MAX = 50;

function tryListen(port: number): { stop(closeActiveConnections?: boolean): void } | undefined {
  try {
    return Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
  } catch {
    return undefined;
  }
}

/**
 * Returns a base port such that base .. base+count-1 were all free a moment ago. Like freePort, this is a
 * snapshot: another process may bind one of them before the caller does.
 */
export function freePortRange(count: number, random: () => number = Math.random): number {
  for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
    const base = BASE_LOW + Math.floor(random() * (BASE_HIGH - BASE_LOW - count));
    const held = [];
    for (let i = 0; i < count; i++) {
      const listener = tryListen(base + i);
      if (listener === undefined) break;
      held.push(listener);
    }
    for (const listener of held) listener.stop(true);
    if (held.length === count) return base;
  }
  throw new Error(`no ${count} consecutive free ports found between ${BASE_LOW} and ${BASE_HIGH} in ${ATTEMPTS_MAX} attempts`);
}
