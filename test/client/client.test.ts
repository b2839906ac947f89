// limedb/client against real nodes: imported by the package's own name, it fails over from a node that cannot
// be reached, is killed, or answers 503, to the next; other failures come back as typed ClientErrors carrying
// the node's code, not retried; batches and TTLs work through it.
import { afterEach, expect, test } from "bun:test";
import { ClientError, createClient, LimeClient } from "limedb/client";
import { CLUSTER_TEST_TIMEOUT_MS, startCluster, waitForAgreement } from "../support/cluster.ts";
import { freePort } from "../support/free-port.ts";
import { interruptOnExit, replicationArgs, REPLICATION_TIMING } from "../support/replication.ts";

const ANTI_ENTROPY_OFF_MS = 3_600_000;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function failure(promise: Promise<unknown>): Promise<ClientError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ClientError)) throw new Error(`expected a ClientError, got ${String(error)}`);
  return error;
}

/** A server that answers every request 503 as a node that cannot serve right now does. */
function unavailableNode(): string {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json({ error: "this node is still joining its cluster", code: "unavailable" }, { status: 503 }) });
  cleanup.push(() => server.stop(true));
  return `http://127.0.0.1:${server.port}`;
}

test(
  "fails over from a node that cannot be reached, one that answers 503 and one that was killed; typed errors are not retried",
  async () => {
    await using cluster = await startCluster({ size: 3, timing: { ...REPLICATION_TIMING, deadAfterMs: 60_000 }, args: replicationArgs(ANTI_ENTROPY_OFF_MS) });
    await using _stop = interruptOnExit(cluster);
    await waitForAgreement(cluster.urls, cluster.urls, 15_000);
    const [a, b, c] = [cluster.node(0), cluster.node(1), cluster.node(2)];
    const nowhere = `http://127.0.0.1:${freePort()}`;
    const client: LimeClient = createClient({ nodes: [nowhere, unavailableNode(), a.url, b.url, c.url], timeoutMs: 3_000 });

    // The first two cannot serve: the call goes on to a, which is asked first from then on.
    await client.set("user:1", "Ada");
    expect(client.nodeUrl).toBe(a.url);
    expect(await client.get("user:1")).toBe("Ada");
    expect(await client.getEntry("user:1")).toEqual({ value: "Ada", nodeUrl: expect.any(String) });
    expect(await client.get("nobody")).toBeUndefined();

    // Batches, with a TTL on one entry.
    const written = await client.mset([
      { key: "k1", value: "one" },
      { key: "k2", value: "two", ttlMs: 60_000 },
    ]);
    expect(written).toEqual({ results: [{ key: "k1", ok: true }, { key: "k2", ok: true }], written: 2, failed: 0 });
    expect(await client.mget(["k2", "missing", "k1"])).toEqual([
      { key: "k2", found: true, value: "two", nodeUrl: expect.any(String) },
      { key: "missing", found: false },
      { key: "k1", found: true, value: "one", nodeUrl: expect.any(String) },
    ]);

    // Typed errors carry the node's code and are the cluster's answer: no other node is asked.
    const tooLarge = await failure(client.set("big", "x".repeat(1024 * 1024 + 1)));
    expect({ kind: tooLarge.kind, status: tooLarge.status, code: tooLarge.code }).toEqual({ kind: "rejected", status: 413, code: "too_large" });
    const badKey = await failure(client.set("", "v"));
    expect({ kind: badKey.kind, status: badKey.status, code: badKey.code }).toEqual({ kind: "rejected", status: 400, code: "bad_request" });
    expect(client.nodeUrl).toBe(a.url);

    // The preferred node killed: the next call fails over to b, with W=2 and R=2 still met.
    await a.kill9();
    await client.set("user:2", "Grace");
    expect(client.nodeUrl).toBe(b.url);
    expect(await client.get("user:2")).toBe("Grace");
    expect(await client.del("user:1")).toBe(true);
    expect(await client.get("user:1")).toBeUndefined();
    expect((await client.state()).nodeUrl).toBe(b.url);

    // The cluster-wide scan, two keys a page: every live key once.
    const scanned: string[] = [];
    for await (const entry of client.scan({ pageSize: 2 })) scanned.push(entry.key);
    expect(scanned.toSorted()).toEqual(["k1", "k2", "user:2"]);
    const users: string[] = [];
    for await (const entry of client.scan({ prefix: "user:" })) users.push(`${entry.key}=${entry.value}`);
    expect(users).toEqual(["user:2=Grace"]);
  },
  CLUSTER_TEST_TIMEOUT_MS * 2,
);

test("when no node can serve, the error says so for each one tried", async () => {
  const nowhere = `http://127.0.0.1:${freePort()}`;
  const busy = unavailableNode();
  const error = await failure(createClient({ nodes: [nowhere, busy], timeoutMs: 2_000 }).get("k"));
  expect(error.kind).toBe("unavailable");
  expect(error.code).toBe("unavailable");
  expect(error.message).toContain(`cannot reach ${nowhere}`);
  expect(error.message).toContain("still joining");
});

test("a client needs a node, and takes only http(s) node URLs", () => {
  expect(() => createClient({ nodes: [] })).toThrow("at least one node URL");
  expect(() => createClient({ nodes: ["ftp://127.0.0.1:1"] })).toThrow("only http and https");
});

test("reads at most METRICS_ANSWER_BYTES_MAX of a node's /metrics: a forged endless answer is cut off, not buffered", async () => {
  const { METRICS_ANSWER_BYTES_MAX, nodeClient } = await import("../../src/client/node-client.ts");
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  // An answer that never ends, counting what it was made to send.
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            sent += chunk.length;
            controller.enqueue(chunk);
          },
        }),
        { headers: { "content-type": "text/plain" } },
      ),
  });
  cleanup.push(() => server.stop(true));
  const error = await failure(nodeClient(`http://127.0.0.1:${server.port}`, 20_000).metrics());
  expect(error.kind).toBe("bad_answer");
  expect(error.message).toContain(`more than ${METRICS_ANSWER_BYTES_MAX} bytes`);
  // Stopped near the bound, not at the 256 MiB every other answer may take.
  expect(sent).toBeLessThan(METRICS_ANSWER_BYTES_MAX * 4);
});
