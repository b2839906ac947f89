// POST /api/v1/mget and /api/v1/mset through app.handle: per-key answers in the order asked, bad input refused
// whole before anything is written, bounds on count and bytes, and a partial failure reported key by key.
import { describe, expect, test } from "bun:test";
import { BATCH_BYTES_MAX, BATCH_KEYS_MAX } from "../../src/node/batch.ts";
import { buildRing, ownerOf } from "../../src/ring/ring.ts";
import { buildTestApp, NODE_URL, VALUE_BYTES_MAX, type Client } from "../support/app.ts";
import { until } from "../support/until.ts";

const OTHER_NODE = "http://127.0.0.1:7002";

function post(client: Client, path: string, body: unknown): Promise<Response> {
  return client.path(`/api/v1/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

interface MgetAnswer {
  results: { key: string; found?: boolean; value?: string; nodeUrl?: string; code?: string; error?: string }[];
}
interface MsetAnswer {
  results: { key: string; ok: boolean; code?: string; error?: string }[];
  written: number;
  failed: number;
}

describe("mset and mget", () => {
  test("write every entry and read every key back, in the order asked; a missing key is found: false", async () => {
    const { client } = buildTestApp({ replicationFactor: 1 });
    const written = await post(client, "mset", { entries: [{ key: "a", value: "1" }, { key: "b", value: "2", ttlMs: 60_000 }, { key: "日本", value: "3" }] });
    expect(written.status).toBe(200);
    expect((await written.json()) as MsetAnswer).toEqual({ results: [{ key: "a", ok: true }, { key: "b", ok: true }, { key: "日本", ok: true }], written: 3, failed: 0 });
    const read = await post(client, "mget", { keys: ["日本", "missing", "a", "b"] });
    expect(read.status).toBe(200);
    expect(((await read.json()) as MgetAnswer).results).toEqual([
      { key: "日本", found: true, value: "3", nodeUrl: NODE_URL },
      { key: "missing", found: false },
      { key: "a", found: true, value: "1", nodeUrl: NODE_URL },
      { key: "b", found: true, value: "2", nodeUrl: NODE_URL },
    ]);
    // Each entry is a SET of its own: the single-key routes see the same data.
    expect(await (await client.get("b")).json()).toEqual({ value: "2", nodeUrl: NODE_URL });
  });

  test("a TTL given to one entry expires that key alone", async () => {
    const { client, clock } = buildTestApp({ replicationFactor: 1 });
    await post(client, "mset", { entries: [{ key: "short", value: "x", ttlMs: 1_000 }, { key: "long", value: "y" }] });
    clock.advance(1_001);
    expect(((await (await post(client, "mget", { keys: ["short", "long"] })).json()) as MgetAnswer).results).toEqual([
      { key: "short", found: false },
      { key: "long", found: true, value: "y", nodeUrl: NODE_URL },
    ]);
  });

  test("entries naming one key are written in order: the last one wins", async () => {
    const { client } = buildTestApp({ replicationFactor: 1 });
    const entries = Array.from({ length: 50 }, (_, i) => ({ key: i % 2 === 0 ? "even" : "odd", value: `v${i}` }));
    const answer = (await (await post(client, "mset", { entries })).json()) as MsetAnswer;
    expect(answer.written).toBe(50);
    expect(((await (await post(client, "mget", { keys: ["even", "odd"] })).json()) as MgetAnswer).results.map((r) => r.value)).toEqual(["v48", "v49"]);
  });

  test.each([
    ["an empty key", { entries: [{ key: "fine", value: "1" }, { key: "", value: "2" }] }, 400, "item 1: key must not be empty"],
    ["a TTL out of range", { entries: [{ key: "fine", value: "1" }, { key: "k", value: "2", ttlMs: 0 }] }, 400, "ttlMs"],
    ["a value over the limit", { entries: [{ key: "fine", value: "1" }, { key: "k", value: "x".repeat(VALUE_BYTES_MAX + 1) }] }, 413, "item 1: value is over the limit"],
    ["a value that is not a string", { entries: [{ key: "fine", value: "1" }, { key: "k", value: 2 }] }, 400, "entries"],
    ["no entries", { entries: [] }, 400, "entries"],
    [`more than ${BATCH_KEYS_MAX} entries`, { entries: Array.from({ length: BATCH_KEYS_MAX + 1 }, (_, i) => ({ key: `k${i}`, value: "v" })) }, 400, "entries"],
    ["no entries field", { key: "fine", value: "1" }, 400, "entries"],
  ])("an mset with %s is refused whole and writes nothing", async (_name, body, status, message) => {
    const { client, store } = buildTestApp({ replicationFactor: 1 });
    const response = await post(client, "mset", body);
    expect(response.status).toBe(status);
    const error = (await response.json()) as { error: string; code: string };
    expect(error.error).toContain(message);
    expect(await store.count()).toBe(0);
  });

  test("an mset carrying more than the batch's bytes is refused whole", async () => {
    const { client, store } = buildTestApp({ replicationFactor: 1 });
    const value = "v".repeat(VALUE_BYTES_MAX);
    const entries = Array.from({ length: Math.floor(BATCH_BYTES_MAX / VALUE_BYTES_MAX) + 1 }, (_, i) => ({ key: `big-${i}`, value }));
    const response = await post(client, "mset", { entries });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toContain("split it");
    expect(await store.count()).toBe(0);
  });

  test.each([
    ["an empty key", { keys: ["a", ""] }, "item 1: key must not be empty"],
    ["no keys", { keys: [] }, "keys"],
    [`more than ${BATCH_KEYS_MAX} keys`, { keys: Array.from({ length: BATCH_KEYS_MAX + 1 }, (_, i) => `k${i}`) }, "keys"],
    ["a key that is not a string", { keys: ["a", 1] }, "keys"],
  ])("an mget with %s is refused with 400", async (_name, body, message) => {
    const { client } = buildTestApp({ replicationFactor: 1 });
    const response = await post(client, "mget", body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain(message);
  });

  test("an mget answers values up to its byte budget and the keys past it as too_large, to be asked again", async () => {
    const { client } = buildTestApp({ replicationFactor: 1 });
    const value = "v".repeat(VALUE_BYTES_MAX);
    const count = Math.floor(BATCH_BYTES_MAX / VALUE_BYTES_MAX) + 4;
    const keys = Array.from({ length: count }, (_, i) => `big-${i}`);
    for (const key of keys) expect((await client.set(key, value)).status).toBe(200);
    const response = await post(client, "mget", { keys });
    expect(response.status).toBe(200);
    const results = ((await response.json()) as MgetAnswer).results;
    expect(results.map((result) => result.key)).toEqual(keys);
    const found = results.filter((result) => result.found === true);
    expect(found.length).toBe(Math.floor(BATCH_BYTES_MAX / VALUE_BYTES_MAX));
    expect(found.every((result) => result.value === value)).toBe(true);
    expect(results.filter((result) => result.code === "too_large").length).toBe(count - found.length);
  });

  test("a partial failure is reported key by key: keys whose replica cannot be reached fail, the others are written and read", async () => {
    // One copy per key on two nodes; the other node never answers in-process.
    const { client } = buildTestApp({ replicationFactor: 1, ringNodes: [NODE_URL, OTHER_NODE] });
    const ring = buildRing([NODE_URL, OTHER_NODE], 256);
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    const mine = keys.filter((key) => ownerOf(ring, key) === NODE_URL);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.length).toBeLessThan(keys.length);
    const written = (await (await post(client, "mset", { entries: keys.map((key) => ({ key, value: `value of ${key}` })) })).json()) as MsetAnswer;
    expect(written.written).toBe(mine.length);
    expect(written.failed).toBe(keys.length - mine.length);
    for (const result of written.results) {
      if (mine.includes(result.key)) expect(result).toEqual({ key: result.key, ok: true });
      else expect(result).toMatchObject({ key: result.key, ok: false, code: "unavailable" });
    }
    const read = ((await (await post(client, "mget", { keys })).json()) as MgetAnswer).results;
    for (const result of read) {
      if (mine.includes(result.key)) expect(result).toEqual({ key: result.key, found: true, value: `value of ${result.key}`, nodeUrl: NODE_URL });
      else expect(result).toMatchObject({ key: result.key, code: "unavailable" });
    }
  });

  test("both routes are counted under their own templates", async () => {
    const { client, metrics } = buildTestApp({ replicationFactor: 1 });
    await post(client, "mset", { entries: [{ key: "a", value: "1" }] });
    await post(client, "mget", { keys: ["a"] });
    // The counting hook runs after each response is sent.
    await until("both batches are counted", () => metrics.requests.value({ route: "/api/v1/mget", method: "POST", status: "200" }) === 1);
    expect(metrics.requests.value({ route: "/api/v1/mset", method: "POST", status: "200" })).toBe(1);
  });
});
