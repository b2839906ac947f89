// The explorer's listing: scanning a node page by page, merging nodes' keys with their holders, filtering and paging.
import { describe, expect, test } from "bun:test";
import { ApiError, type Client } from "../../src/dashboard/api-client.ts";
import type { KeyEntry } from "../../src/dashboard/api-types.ts";
import { filterRows, mergeListings, pageOf, scanNode, scanNodes } from "../../src/dashboard/key-listing.ts";

const A = "http://127.0.0.1:7001";
const B = "http://127.0.0.1:7002";
const C = "http://127.0.0.1:7003";

const entry = (key: string, value = `v-${key}`): KeyEntry => ({ key, value, size: value.length });

/** A client whose only working calls are `keys` and `keysAfter`, over a sorted list, as a node pages it; calls note the first key asked for. */
function fakeClient(url: string, keys: readonly KeyEntry[], calls: (number | string)[] = []): Client {
  const next = (end: number) => (end < keys.length ? keys[end - 1]!.key : null);
  return {
    node: { url, base: url },
    keys: async (page: number, pageSize: number) => {
      calls.push(page);
      const end = Math.min(keys.length, page * pageSize);
      return { keys: keys.slice((page - 1) * pageSize, end), page, pageSize, total: keys.length, totalPages: Math.max(1, Math.ceil(keys.length / pageSize)), next: next(end) };
    },
    keysAfter: async (after: string, pageSize: number) => {
      calls.push(after);
      const start = keys.findIndex((e) => e.key > after);
      const end = Math.min(keys.length, start + pageSize);
      return { keys: keys.slice(start, end), pageSize, total: keys.length, next: next(end) };
    },
  } as unknown as Client;
}

function failingClient(url: string): Client {
  return {
    node: { url, base: url },
    keys: async () => {
      throw new ApiError("network", `GET ${url}/api/v1/keys failed`, url);
    },
  } as unknown as Client;
}

describe("scanning a node", () => {
  test("reads every page until the last, each after the last key of the one before", async () => {
    const keys = Array.from({ length: 250 }, (_, i) => entry(`k${String(i).padStart(3, "0")}`));
    const calls: (number | string)[] = [];
    const listing = await scanNode(fakeClient(A, keys, calls));
    expect(calls).toEqual([1, "k099", "k199"]);
    expect(listing).toMatchObject({ nodeUrl: A, total: 250 });
    expect(listing.entries.map((e) => e.key)).toEqual(keys.map((e) => e.key));
  });

  test("stops at its bound and keeps the node's total, so the page can say the listing is cut", async () => {
    const keys = Array.from({ length: 350 }, (_, i) => entry(`k${String(i).padStart(3, "0")}`));
    const calls: (number | string)[] = [];
    const listing = await scanNode(fakeClient(A, keys, calls), 200);
    expect(calls).toEqual([1, "k099"]);
    expect(listing.entries).toHaveLength(200);
    expect(listing.total).toBe(350);
  });

  test("reports a node that fails beside the listings of those that answered", async () => {
    const { listings, failures } = await scanNodes([fakeClient(A, [entry("a")]), failingClient(B)]);
    expect(listings.map((l) => l.nodeUrl)).toEqual([A]);
    expect(failures.map((f) => [f.nodeUrl, f.error.kind])).toEqual([[B, "network"]]);
  });
});

describe("merging nodes' keys", () => {
  test("gives one row per key, sorted, naming every node that holds it", () => {
    const rows = mergeListings([
      { nodeUrl: C, entries: [entry("b"), entry("c")], total: 2 },
      { nodeUrl: A, entries: [entry("a"), entry("b")], total: 2 },
      { nodeUrl: B, entries: [entry("b")], total: 1 },
    ]);
    expect(rows.map((r) => [r.key, r.holders])).toEqual([
      ["a", [A]],
      ["b", [A, B, C]],
      ["c", [C]],
    ]);
    expect(rows.every((r) => !r.divergent)).toBe(true);
  });

  test("marks a key whose copies hold different values", () => {
    const rows = mergeListings([
      { nodeUrl: A, entries: [entry("k", "old")], total: 1 },
      { nodeUrl: B, entries: [entry("k", "new")], total: 1 },
    ]);
    expect(rows[0]?.divergent).toBe(true);
  });
});

describe("filtering and paging", () => {
  const rows = mergeListings([{ nodeUrl: A, entries: [entry("user:1", "Ada"), entry("user:2", "Grace"), entry("product:1", "Lime")], total: 3 }]);

  test.each([
    ["", ["product:1", "user:1", "user:2"]],
    ["USER", ["user:1", "user:2"]],
    ["grace", ["user:2"]],
    ["  lime ", ["product:1"]],
    ["nothing", []],
  ])("the filter %p keeps %p", (filter, keys) => {
    expect(filterRows(rows, filter).map((r) => r.key)).toEqual(keys);
  });

  test.each([
    [1, 2, ["a", "b"], 1, 3],
    [3, 2, ["e"], 3, 3],
    [9, 2, ["e"], 3, 3],
    [0, 2, ["a", "b"], 1, 3],
  ])("page %p of size %p shows %p as page %p of %p", (page, size, items, shown, totalPages) => {
    expect(pageOf(["a", "b", "c", "d", "e"], page, size)).toEqual({ items, page: shown, totalPages });
  });

  test("an empty listing is one empty page", () => {
    expect(pageOf([], 1, 20)).toEqual({ items: [], page: 1, totalPages: 1 });
  });
});
