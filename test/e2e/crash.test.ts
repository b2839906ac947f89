// kill -9 in the middle of a burst of writes: every write a node acknowledged with OK reads back after it restarts.
import { expect, test } from "bun:test";
import { startNode, type NodeProcess } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";

/** Concurrent writers: enough to fill the group commit and have requests in flight when the kill lands. */
const WRITERS = 16;
/** Bounds on the burst if the kill never triggers, so a slow or stuck node fails the test instead of hanging it. */
const WRITES_MAX = 20_000;
const BURST_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** Reads in flight at once while checking what survived. */
const READERS = 16;

interface Burst {
  readonly acknowledged: string[];
  readonly unexpected: string[];
  attempted: number;
  cutOff: number;
  stopped: boolean;
  /** Set when the kill is sent; a writer can see its connection die before the process is reaped. */
  killed?: Promise<void>;
}

function valueFor(key: string): string {
  return `value of ${key}: ${"v".repeat(64)}`;
}

/** One writer: unique keys until the node dies or a bound is hit; only a 200 `OK` counts as acknowledged. */
async function writeUntilKilled(writer: number, node: NodeProcess, burst: Burst, killAfter: number, deadline: number): Promise<void> {
  for (let n = 0; !burst.stopped && burst.attempted < WRITES_MAX && performance.now() < deadline; n++) {
    const key = `crash-${writer}-${n}`;
    burst.attempted++;
    let status: number;
    let text: string;
    try {
      const response = await fetch(`${node.url}/api/v1/set`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key, value: valueFor(key) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = response.status;
      text = await response.text();
    } catch {
      // The connection died with the node: this write may or may not have landed, and was never acknowledged.
      burst.cutOff++;
      burst.stopped = true;
      return;
    }
    if (status !== 200 || text !== "OK") {
      burst.unexpected.push(`${key}: ${status} ${text.slice(0, 200)}`);
      continue;
    }
    burst.acknowledged.push(key);
    // The kill lands while the other writers still wait on their requests: mid-burst, not after it.
    if (burst.acknowledged.length === killAfter) burst.killed = node.kill9();
  }
}

async function readBack(node: NodeProcess, keys: readonly string[]): Promise<string[]> {
  const lost: string[] = [];
  let next = 0;
  const reader = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const response = await fetch(`${node.url}/api/v1/get/${encodeURIComponent(key)}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const body = response.status === 200 ? ((await response.json()) as { value: string }) : undefined;
      if (response.status !== 200) await response.arrayBuffer();
      if (body?.value !== valueFor(key)) lost.push(`${key}: ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: READERS }, reader));
  return lost;
}

// fs rewrites its whole file with fsync on every batch (O(n) by design), so it reaches fewer writes in the same time.
test.each([
  { backend: "sqlite", killAfter: 3000 },
  { backend: "fs", killAfter: 400 },
] as const)("$backend keeps every write it acknowledged when killed with SIGKILL mid-burst", async ({ backend, killAfter }) => {
  await using dir = await tempDir();
  await using node = await startNode({ dataDir: dir.path, backend });
  const burst: Burst = { acknowledged: [], unexpected: [], attempted: 0, cutOff: 0, stopped: false };
  const deadline = performance.now() + BURST_TIMEOUT_MS;

  await Promise.all(Array.from({ length: WRITERS }, (_, writer) => writeUntilKilled(writer, node, burst, killAfter, deadline)));
  await burst.killed;

  expect(burst.unexpected).toEqual([]);
  // The node must have been killed by the burst (not have outlived it), with writes still in flight.
  expect(burst.acknowledged.length).toBeGreaterThanOrEqual(killAfter);
  expect(node.process.signalCode).toBe("SIGKILL");
  expect(burst.cutOff).toBeGreaterThan(0);

  await node.restart();
  const lost = await readBack(node, burst.acknowledged);
  const total = ((await (await fetch(`${node.url}/api/v1/keys?pageSize=1`)).json()) as { total: number }).total;
  console.log(
    `[crash ${backend}] ${burst.attempted} writes sent, ${burst.acknowledged.length} acknowledged before kill -9, ` +
      `${burst.cutOff} cut off in flight; after restart ${total} keys stored, ${lost.length} acknowledged writes lost`,
  );
  expect(lost).toEqual([]);
  expect(total).toBeGreaterThanOrEqual(burst.acknowledged.length);
});
