// The health route through app.handle: its exact shape while the store serves, and 503 once the store cannot.
import { expect, test } from "bun:test";
import type { Backend } from "../../src/store/backend.ts";
import { StoreError } from "../../src/store/errors.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import { buildTestApp, type Client, NODE_URL, START_MS, testClock, VALUE_BYTES_MAX, VERSION } from "../support/app.ts";

/** A memory store whose disk has "failed": every call throws the way a durable backend reports I/O errors. */
function brokenStore(): Backend {
  const fail = async (): Promise<never> => {
    throw new StoreError("io", "cannot read store file /data/node.json: EIO: i/o error");
  };
  const healthy = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: () => START_MS });
  return { kind: "fs", get: fail, getMany: fail, put: fail, putMany: fail, page: fail, count: fail, scan: fail, scanRing: fail, segmentDigests: fail, verifySegments: fail, keysAfter: fail, discard: fail, purge: fail, check: fail, close: () => healthy.close() };
}

test("health answers 200 with the node, service, store kind, key count, time and version", async () => {
  const clock = testClock();
  const { client } = buildTestApp({ clock });
  await client.set("a", "1");
  await client.set("b", "2");
  await client.set("gone", "3");
  await client.del("gone");
  const before = Date.now();
  const response = await client.path("/api/v1/health");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("application/json");
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toStrictEqual({
    nodeUrl: NODE_URL,
    service: "limedb-node",
    status: "healthy",
    storage: { type: "memory", keys: 2 },
    replication: { factor: 3, hintBacklog: 0, rebalancing: false },
    // No peer has been heard from, so there is nothing to hold this node's clock against.
    clock: { status: "ok", offsetMs: 0, peers: 0 },
    cluster: { members: 1, reachable: 1, majority: true },
    timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    version: VERSION,
  });
  expect(Date.parse(String(body.timestamp))).toBeGreaterThanOrEqual(before - 1000);
});

test("health answers 503, unhealthy, with the store's error once the store is closed", async () => {
  const { client, store } = buildTestApp();
  await client.set("a", "1");
  await store.close();
  const response = await client.path("/api/v1/health");
  expect(response.status).toBe(503);
  expect(response.headers.get("content-type")).toStartWith("application/json");
  expect(await response.json()).toStrictEqual({
    nodeUrl: NODE_URL,
    service: "limedb-node",
    status: "unhealthy",
    storage: { type: "memory", keys: 0, error: expect.stringContaining("closed") },
    replication: { factor: 3, hintBacklog: 0, rebalancing: false },
    clock: { status: "ok", offsetMs: 0, peers: 0 },
    cluster: { members: 1, reachable: 1, majority: true },
    timestamp: expect.any(String),
    version: VERSION,
  });
});

test("health answers 503 naming the failure when the store's disk fails", async () => {
  const { client } = buildTestApp({ store: brokenStore() });
  const response = await client.path("/api/v1/health");
  expect(response.status).toBe(503);
  const body = (await response.json()) as { status: string; storage: { type: string; error: string } };
  expect(body.status).toBe("unhealthy");
  expect(body.storage.type).toBe("fs");
  expect(body.storage.error).toContain("EIO");
});

test.each([
  { name: "SET", call: (c: Client) => c.set("k", "v") },
  { name: "GET", call: (c: Client) => c.get("k") },
  { name: "DEL", call: (c: Client) => c.del("k") },
  { name: "/keys", call: (c: Client) => c.keys() },
])("$name answers 503 store_unavailable, never OK or a stack, when the store fails", async ({ call }) => {
  const { client, internalErrors } = buildTestApp({ store: brokenStore() });
  const response = await call(client);
  expect(response.status).toBe(503);
  const text = await response.text();
  expect(JSON.parse(text)).toStrictEqual({ error: expect.any(String), code: "store_unavailable" });
  expect(text).not.toContain("    at ");
  expect(internalErrors).toEqual([]);
});

test("a response that breaks its own schema answers 500 internal and is logged, not blamed on the client", async () => {
  // A store reporting a fractional key count makes the health body break its schema: a node bug by construction.
  const inner = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: () => START_MS });
  const store: Backend = {
    kind: "memory",
    get: (key) => inner.get(key),
    getMany: (keys) => inner.getMany(keys),
    put: (record) => inner.put(record),
    putMany: (records) => inner.putMany(records),
    page: (offset, limit, bytesMax) => inner.page(offset, limit, bytesMax),
    count: async () => 1.5,
    scan: (afterKey, limit) => inner.scan(afterKey, limit),
    scanRing: (range, afterKey, limit) => inner.scanRing(range, afterKey, limit),
    segmentDigests: () => inner.segmentDigests(),
    keysAfter: (afterKey, limit, bytesMax) => inner.keysAfter(afterKey, limit, bytesMax),
    verifySegments: (first, count) => inner.verifySegments(first, count),
    discard: (key, version) => inner.discard(key, version),
    purge: (beforeMs) => inner.purge(beforeMs),
    check: () => inner.check(),
    close: () => inner.close(),
  };
  const { client, internalErrors } = buildTestApp({ store });
  const response = await client.path("/api/v1/health");
  expect(response.status).toBe(500);
  expect(await response.json()).toStrictEqual({ error: expect.any(String), code: "internal" });
  expect(internalErrors).toHaveLength(1);
});
