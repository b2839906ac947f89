// The bus under faults, with clients busy on one node: a replica frozen mid-load (SIGSTOP), one killed mid-frame
// (kill -9 while calls are on its connection), and garbage frames thrown at the node's bus. Every client request
// ends with an answer within the forward timeout (200, or a JSON 503/504), none hangs, and no node crashes.
import { expect, test } from "bun:test";
import { BUS_PATH } from "../../src/bus/bus-server.ts";
import { CLUSTER_TEST_TIMEOUT_MS, startCluster, TEST_TIMING, waitForAgreement } from "../support/cluster.ts";
import { isJson, replicationArgs } from "../support/replication.ts";

/** Client loops running at once against node A. */
const CLIENTS = 16;
/** How late past the forward timeout an answer may come on a loaded 2-core machine (timers, three nodes, the test). */
const LATE_SLACK_MS = 1_500;
const AGREE_WAIT_MS = 15_000;
/** Anti-entropy off for the test's length: only client traffic crosses the bus. */
const ANTI_ENTROPY_MS = 3_600_000;

interface Outcome {
  readonly status: number;
  readonly ms: number;
  readonly json: boolean;
}

test("a frozen replica, a killed one and garbage frames: every client request is answered within the forward timeout", async () => {
  const timing = TEST_TIMING;
  await using cluster = await startCluster({ size: 3, timing, args: replicationArgs(ANTI_ENTROPY_MS) });
  await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
  const [a, b, c] = cluster.nodes;
  const outcomes: Outcome[] = [];
  let running = true;
  const client = async (n: number) => {
    for (let i = 0; running; i++) {
      const key = `bus-fault-${n}-${i % 50}`;
      const started = performance.now();
      // No client-side deadline short of the node's: a request that hangs shows as one far past the timeout.
      const request = i % 2 === 0 ? fetch(`${a!.url}/api/v1/set`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key, value: `v${i}` }) }) : fetch(`${a!.url}/api/v1/get/${key}`);
      const response = await request;
      const text = await response.text();
      outcomes.push({ status: response.status, ms: performance.now() - started, json: response.status === 200 || isJson(text) });
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));

  await Bun.sleep(500);
  // Frozen: its sockets stay open and answer nothing.
  c!.process.kill("SIGSTOP");
  await Bun.sleep(2 * timing.forwardTimeoutMs);
  // Garbage at A's bus from a program with no secret, while the load goes on.
  for (let i = 0; i < 5; i++) {
    const ws = new WebSocket(`${a!.url.replace("http", "ws")}${BUS_PATH}`);
    ws.onopen = () => ws.send(crypto.getRandomValues(new Uint8Array(1024)));
  }
  c!.process.kill("SIGCONT");
  await Bun.sleep(500);
  // Killed while calls are on its connection: some frames to it are cut off half-way.
  await b!.kill9();
  await Bun.sleep(2 * timing.forwardTimeoutMs);
  running = false;
  await Promise.all(clients);

  const statuses = new Map<number, number>();
  for (const outcome of outcomes) statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
  const slowest = Math.max(...outcomes.map((outcome) => outcome.ms));
  console.log(`${outcomes.length} requests: ${JSON.stringify(Object.fromEntries(statuses))}; slowest ${Math.round(slowest)} ms (forward timeout ${timing.forwardTimeoutMs} ms)`);
  expect(outcomes.length).toBeGreaterThan(100);
  expect([...statuses.keys()].filter((status) => ![200, 404, 503, 504].includes(status))).toEqual([]);
  expect(outcomes.filter((outcome) => !outcome.json)).toEqual([]);
  expect(outcomes.filter((outcome) => outcome.ms > timing.forwardTimeoutMs + LATE_SLACK_MS).map((outcome) => Math.round(outcome.ms))).toEqual([]);
  // The survivors still serve, and A never died.
  expect(a!.process.exitCode).toBeNull();
  expect(c!.process.exitCode).toBeNull();
  expect((await fetch(`${a!.url}/api/v1/health`)).status).toBe(200);
}, CLUSTER_TEST_TIMEOUT_MS);
