// GET /api/v1/scan through app.handle on one node: every live key once, in ring order, a page at a time from an
// opaque cursor; deleted and expired keys skipped; a prefix filters; bad cursors and limits are refused.
import { describe, expect, test } from "bun:test";
import { SCAN_LIMIT_MAX } from "../../src/node/scan.ts";
import { ringPosition } from "../../src/store/segments.ts";
import { buildTestApp, type Client } from "../support/app.ts";

interface ScanAnswer {
  keys: { key: string; value: string; version: { wallMs: number; counter: number; node: string }; expiresAtMs: number | null }[];
  next: string | null;
}

async function scanPage(client: Client, query: string): Promise<{ status: number; body: ScanAnswer & { error?: string } }> {
  const response = await client.path(`/api/v1/scan${query}`);
  return { status: response.status, body: (await response.json()) as ScanAnswer & { error?: string } };
}

/** Every page from the start; the keys in the order visited. */
async function scanAll(client: Client, limit: number, prefix = ""): Promise<{ keys: ScanAnswer["keys"]; pages: number }> {
  const keys: ScanAnswer["keys"] = [];
  let cursor: string | null = "";
  let pages = 0;
  while (cursor !== null) {
    const { status, body } = await scanPage(client, `?limit=${limit}${cursor === "" ? "" : `&cursor=${cursor}`}${prefix === "" ? "" : `&prefix=${encodeURIComponent(prefix)}`}`);
    expect(status).toBe(200);
    keys.push(...body.keys);
    cursor = body.next;
    if (++pages > 10_000) throw new Error("the scan did not end");
  }
  return { keys, pages };
}

function inRingOrder(keys: readonly string[]): boolean {
  return keys.every((key, i) => {
    if (i === 0) return true;
    const [a, b] = [ringPosition(keys[i - 1]!), ringPosition(key)];
    return a < b || (a === b && keys[i - 1]! < key);
  });
}

describe("the cluster-wide scan on one node", () => {
  test("visits every live key exactly once, in ring order, skipping deleted and expired keys", async () => {
    const { client, clock } = buildTestApp({ replicationFactor: 1 });
    const keys = Array.from({ length: 1_234 }, (_, i) => `key-${i}`);
    for (const key of keys) expect((await client.set(key, `value of ${key}`)).status).toBe(200);
    expect((await client.set("expiring", "soon", 1_000)).status).toBe(200);
    expect((await client.del("key-7")).status).toBe(200);
    clock.advance(1_001);
    const { keys: seen, pages } = await scanAll(client, 100);
    const names = seen.map((entry) => entry.key);
    expect(new Set(names).size).toBe(names.length);
    expect(names.toSorted()).toEqual(keys.filter((key) => key !== "key-7").toSorted());
    expect(inRingOrder(names)).toBe(true);
    expect(pages).toBeGreaterThanOrEqual(13);
    const one = seen.find((entry) => entry.key === "key-42")!;
    expect(one).toEqual({ key: "key-42", value: "value of key-42", version: expect.objectContaining({ node: expect.any(String) }), expiresAtMs: null });
  });

  test("a prefix keeps only the keys that start with it; pages may come back short, never wrong", async () => {
    const { client } = buildTestApp({ replicationFactor: 1 });
    for (let i = 0; i < 300; i++) await client.set(`${i % 3 === 0 ? "user:" : "order:"}${i}`, "v");
    const { keys } = await scanAll(client, 7, "user:");
    expect(keys.map((entry) => entry.key).toSorted()).toEqual(Array.from({ length: 100 }, (_, i) => `user:${i * 3}`).toSorted());
  });

  test("an empty store ends at once", async () => {
    const { client } = buildTestApp({ replicationFactor: 1 });
    expect(await scanPage(client, "")).toEqual({ status: 200, body: { keys: [], next: null } });
  });

  test.each([
    ["a cursor that is not one", "?cursor=not-a-cursor!"],
    ["a cursor naming a key at another position", `?cursor=${Buffer.from(JSON.stringify({ p: "5", k: "key-1" })).toString("base64url")}`],
    ["a position past the ring", `?cursor=${Buffer.from(JSON.stringify({ p: "18446744073709551616", k: null })).toString("base64url")}`],
    ["a limit of 0", "?limit=0"],
    [`a limit over ${SCAN_LIMIT_MAX}`, `?limit=${SCAN_LIMIT_MAX + 1}`],
  ])("%s is refused with 400", async (_name, query) => {
    const { client } = buildTestApp({ replicationFactor: 1 });
    const { status, body } = await scanPage(client, query);
    expect(status).toBe(400);
    expect(body.error).toMatch(/cursor|limit/);
  });
});
