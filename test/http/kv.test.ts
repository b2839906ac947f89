// SET, GET, DEL and the key listing through app.handle: the success shapes the original's clients read, and TTL expiry.
import { describe, expect, test } from "bun:test";
import { allKeys, buildTestApp, NODE_URL, START_MS, VALUE_BYTES_MAX } from "../support/app.ts";
import type { Backend } from "../../src/store/backend.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import { KEYS_PAGE_BYTES_MAX } from "../../src/node/node.ts";

/** Keys that break naive path handling: separators, query and fragment marks, escapes, spaces, non-ASCII. */
const AWKWARD_KEYS = [
  "plain",
  "a/b/c",
  "/leading-and-trailing/",
  "what?x=1&y=2",
  "#fragment",
  "100%",
  "%2F already encoded",
  "with space",
  "  padded  ",
  "plus+sign",
  "back\\slash",
  "quote\"and'apostrophe",
  "ünïcödé",
  "日本語のキー",
  "😀 emoji 🚀",
  "mixed /?#% é😀",
  "tab\tand\nnewline",
];

function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

describe("SET", () => {
  test("answers 200 with the text OK", async () => {
    const { client } = buildTestApp();
    const response = await client.set("k", "v");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/plain");
    expect(await response.text()).toBe("OK");
  });

  test("overwrites the value of an existing key", async () => {
    const { client } = buildTestApp();
    await client.set("k", "first");
    await client.set("k", "second");
    expect(await (await client.get("k")).json()).toEqual({ value: "second", nodeUrl: NODE_URL });
  });

  test("accepts a key of exactly 1,024 UTF-8 bytes and a value of exactly the limit", async () => {
    const { client } = buildTestApp();
    const key = "😀".repeat(256);
    const value = "é".repeat(VALUE_BYTES_MAX / 2);
    expect(Buffer.byteLength(key)).toBe(1024);
    expect((await client.set(key, value)).status).toBe(200);
    expect(((await (await client.get(key)).json()) as { value: string }).value).toBe(value);
  });

  test("accepts an empty value", async () => {
    const { client } = buildTestApp();
    expect((await client.set("empty", "")).status).toBe(200);
    expect(await (await client.get("empty")).json()).toEqual({ value: "", nodeUrl: NODE_URL });
  });

  test("ignores fields it does not know, as the original did", async () => {
    const { client } = buildTestApp();
    const response = await client.path("/api/v1/set", { method: "POST", body: JSON.stringify({ key: "k", value: "v", extra: [1, 2] }) });
    expect(response.status).toBe(200);
    expect(await (await client.get("k")).json()).toEqual({ value: "v", nodeUrl: NODE_URL });
  });
});

describe("GET", () => {
  test("answers 200 JSON with exactly the value and this node's URL", async () => {
    const { client } = buildTestApp();
    await client.set("k", "v");
    const response = await client.get("k");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect(await response.json()).toStrictEqual({ value: "v", nodeUrl: NODE_URL });
  });

  test("answers 404 with code not_found for a key that was never set", async () => {
    const { client } = buildTestApp();
    const response = await client.get("missing");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect(await response.json()).toStrictEqual({ error: expect.any(String), code: "not_found" });
  });

  test("answers 404 with code not_found for a deleted key", async () => {
    const { client } = buildTestApp();
    await client.set("k", "v");
    await client.del("k");
    const response = await client.get("k");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe("not_found");
  });
});

describe("DEL", () => {
  test("answers the text 1 for a key that existed and 0 the second time", async () => {
    const { client } = buildTestApp();
    await client.set("k", "v");
    const first = await client.del("k");
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toStartWith("text/plain");
    expect(await first.text()).toBe("1");
    const second = await client.del("k");
    expect(second.status).toBe(200);
    expect(await second.text()).toBe("0");
  });

  test("answers the text 0 for a key that never existed", async () => {
    const { client } = buildTestApp();
    const response = await client.del("never");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("0");
  });

  test("lets a deleted key be set again", async () => {
    const { client } = buildTestApp();
    await client.set("k", "old");
    await client.del("k");
    await client.set("k", "new");
    expect(await (await client.get("k")).json()).toEqual({ value: "new", nodeUrl: NODE_URL });
  });
});

describe("keys that need escaping", () => {
  test.each(AWKWARD_KEYS)("%p round-trips through SET, GET, /keys and DEL", async (key) => {
    const { client } = buildTestApp();
    const value = `value of ${key}`;
    expect(await (await client.set(key, value)).text()).toBe("OK");
    const got = await client.get(key);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ value, nodeUrl: NODE_URL });
    expect(await allKeys(client)).toEqual([{ key, value, size: Buffer.byteLength(value) }]);
    expect(await (await client.del(key)).text()).toBe("1");
    expect((await client.get(key)).status).toBe(404);
    expect(await allKeys(client)).toEqual([]);
  });

  test("keys that differ only in escaping stay separate", async () => {
    const { client } = buildTestApp();
    const keys = ["a/b", "a%2Fb", "a%252Fb", "a b", "a+b", "a%20b"];
    for (const key of keys) await client.set(key, `v:${key}`);
    for (const key of keys) expect(((await (await client.get(key)).json()) as { value: string }).value).toBe(`v:${key}`);
    expect((await allKeys(client)).map((entry) => entry.key).sort()).toEqual([...keys].sort());
  });
});

describe("/keys", () => {
  test("lists this node's keys sorted by code point, with value and UTF-8 size", async () => {
    const { client } = buildTestApp();
    // U+FF5A sorts before U+1F600 by code point but after it by UTF-16 unit: the order must be code point order.
    const entries = [
      ["😀", "smile"],
      ["ｚ", "fullwidth z"],
      ["b", "é😀"],
      ["a", ""],
      ["B", "upper"],
      ["aa", "x".repeat(300)],
    ] as const;
    for (const [key, value] of entries) await client.set(key, value);
    const response = await client.keys();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    const expected = [...entries]
      .sort(([a], [b]) => byCodePoint(a, b))
      .map(([key, value]) => ({ key, value, size: Buffer.byteLength(value) }));
    expect(await response.json()).toStrictEqual({ keys: expected, page: 1, pageSize: 20, total: entries.length, totalPages: 1, truncated: false, next: null });
    expect(expected.find((entry) => entry.key === "b")?.size).toBe(6);
  });

  test("answers an empty first page when the node holds no keys", async () => {
    const { client } = buildTestApp();
    expect(await (await client.keys()).json()).toStrictEqual({ keys: [], page: 1, pageSize: 20, total: 0, totalPages: 0, truncated: false, next: null });
  });

  test("cuts a page of large values at KEYS_PAGE_BYTES_MAX, always keeps one entry, and says it was truncated", async () => {
    const { client } = buildTestApp();
    const value = "v".repeat(VALUE_BYTES_MAX);
    const count = Math.ceil(KEYS_PAGE_BYTES_MAX / VALUE_BYTES_MAX) + 2;
    for (let i = 0; i < count; i++) await client.set(`large-${i}`, value);
    const body = (await (await client.keys("?pageSize=100")).json()) as { keys: { value: string }[]; total: number; truncated: boolean };
    expect(body.total).toBe(count);
    expect(body.truncated).toBe(true);
    expect(body.keys.length).toBeGreaterThanOrEqual(1);
    expect(body.keys.reduce((bytes, entry) => bytes + entry.value.length, 0)).toBeLessThanOrEqual(KEYS_PAGE_BYTES_MAX);
    const single = (await (await client.keys(`?page=${count}&pageSize=1`)).json()) as { keys: unknown[]; truncated: boolean };
    expect(single.keys).toHaveLength(1);
    expect(single.truncated).toBe(false);
  });

  test.each([
    { page: 1, pageSize: 20, first: 0, count: 20 },
    { page: 2, pageSize: 20, first: 20, count: 20 },
    { page: 3, pageSize: 20, first: 40, count: 5 },
    { page: 4, pageSize: 20, first: 45, count: 0 },
    { page: 1, pageSize: 100, first: 0, count: 45 },
    { page: 7, pageSize: 7, first: 42, count: 3 },
  ])("page $page of size $pageSize over 45 keys holds $count keys from index $first", async ({ page, pageSize, first, count }) => {
    const { client } = buildTestApp();
    const keys = Array.from({ length: 45 }, (_, i) => `key-${String(i).padStart(2, "0")}`);
    for (const key of [...keys].reverse()) await client.set(key, key);
    const body = (await (await client.keys(`?page=${page}&pageSize=${pageSize}`)).json()) as Record<string, unknown>;
    expect(body).toStrictEqual({
      keys: keys.slice(first, first + count).map((key) => ({ key, value: key, size: key.length })),
      page,
      pageSize,
      total: 45,
      totalPages: Math.ceil(45 / pageSize),
      truncated: false,
      next: first + count < 45 ? keys[first + count - 1] : null,
    });
  });

  test("after=KEY lists the keys after that one, a page at a time, with next as the cursor until the last", async () => {
    const { client } = buildTestApp();
    const keys = Array.from({ length: 45 }, (_, i) => `key-${String(i).padStart(2, "0")}`);
    for (const key of [...keys].reverse()) await client.set(key, key);
    await client.del("key-21");
    const live = keys.filter((key) => key !== "key-21");
    const seen: string[] = [];
    const first = (await (await client.keys("?pageSize=20")).json()) as { keys: { key: string }[]; next: string | null };
    seen.push(...first.keys.map((e) => e.key));
    for (let next = first.next; next !== null; ) {
      const body = (await (await client.keys(`?after=${encodeURIComponent(next)}&pageSize=20`)).json()) as Record<string, unknown> & { keys: { key: string }[]; next: string | null };
      expect(Object.keys(body).sort()).toEqual(["keys", "next", "pageSize", "total", "truncated"]);
      expect(body.total).toBe(44);
      seen.push(...body.keys.map((e) => e.key));
      next = body.next;
    }
    expect(seen).toEqual(live);
    // A cursor that is no stored key starts right after where it would sort; past the end the page is empty.
    expect(((await (await client.keys("?after=key-09x&pageSize=2")).json()) as { keys: { key: string }[] }).keys.map((e) => e.key)).toEqual(["key-10", "key-11"]);
    expect(await (await client.keys("?after=zzz")).json()).toStrictEqual({ keys: [], pageSize: 20, total: 44, truncated: false, next: null });
  });

  test.each([
    ["after with page", "?after=a&page=2"],
    ["an empty after", "?after="],
    ["after longer than a key may be", `?after=${"k".repeat(1025)}`],
  ])("answers 400 for %s", async (_name, query) => {
    const { client } = buildTestApp();
    const response = await client.keys(query);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe("bad_request");
  });

  test("leaves deleted keys out of the listing and the total", async () => {
    const { client } = buildTestApp();
    for (const key of ["a", "b", "c"]) await client.set(key, key);
    await client.del("b");
    const body = (await (await client.keys()).json()) as { keys: { key: string }[]; total: number };
    expect(body.keys.map((entry) => entry.key)).toEqual(["a", "c"]);
    expect(body.total).toBe(2);
  });
});

describe("ttlMs", () => {
  test("a key disappears from GET and /keys once the clock passes its expiry", async () => {
    const { client, clock } = buildTestApp();
    expect((await client.set("short", "lived", 1_000)).status).toBe(200);
    await client.set("forever", "here");

    clock.advance(999);
    expect((await client.get("short")).status).toBe(200);
    expect((await allKeys(client)).map((entry) => entry.key)).toEqual(["forever", "short"]);

    clock.advance(1);
    const gone = await client.get("short");
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { code: string }).code).toBe("not_found");
    const listing = (await (await client.keys()).json()) as { keys: { key: string }[]; total: number; totalPages: number };
    expect(listing.keys.map((entry) => entry.key)).toEqual(["forever"]);
    expect(listing.total).toBe(1);
    expect((await client.get("forever")).status).toBe(200);
  });

  test("deleting an expired key answers 0", async () => {
    const { client, clock } = buildTestApp();
    await client.set("k", "v", 10);
    clock.advance(10);
    expect(await (await client.del("k")).text()).toBe("0");
  });

  test("setting a key again without ttlMs removes its expiry", async () => {
    const { client, clock } = buildTestApp();
    await client.set("k", "v1", 10);
    await client.set("k", "v2");
    clock.advance(1_000_000);
    expect(await (await client.get("k")).json()).toEqual({ value: "v2", nodeUrl: NODE_URL });
  });

  test("setting a key again with a new ttlMs moves its expiry", async () => {
    const { client, clock } = buildTestApp();
    await client.set("k", "v1", 10);
    clock.advance(5);
    await client.set("k", "v2", 100);
    clock.advance(50);
    expect((await client.get("k")).status).toBe(200);
    clock.advance(50);
    expect((await client.get("k")).status).toBe(404);
  });
});

describe("a failure that is the node's fault", () => {
  test("is reported for the log with the route template, never the path that holds the key", async () => {
    const store = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: () => START_MS });
    // A store that hands back a value of the wrong type: the GET's response breaks its own schema. Its read at
    // once is broken the same way, since a read of this node's copy alone takes that.
    const wrongType = (record: StoredRecord | undefined) => (record === undefined ? undefined : { ...record, value: 42 as unknown as string });
    const broken: Backend = Object.assign(Object.create(store) as Backend, {
      get: async (key: string) => wrongType(await store.get(key)),
      getSync: (key: string) => wrongType(store.getSync!(key)),
    });
    const { client, internalRoutes } = buildTestApp({ store: broken });
    expect((await client.set("secret-key-zq9x", "v")).status).toBe(200);
    const response = await client.get("secret-key-zq9x");
    expect(response.status).toBe(500);
    expect(internalRoutes).toEqual(["/api/v1/get/:key"]);
  });
});
