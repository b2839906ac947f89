// The explorer's listing: one node's keys page by page, the cluster's by its scan, failures, filtering and paging.
import { describe, expect, test } from "bun:test";
import { ClientError } from "../../src/client/node-client.ts";
import type { KeyEntry } from "../../src/dashboard/api-types.ts";
import { failureOf, filterRows, pageOf, rowsOf, scanCluster, scanNode } from "../../src/dashboard/key-listing.ts";
import type { NodeClient } from "../../src/dashboard/nodes.ts";

const A = "http://127.0.0.1:7001";
const B = "http://127.0.0.1:7002";

const entry = (key: string, value = `v-${key}`): KeyEntry => ({ key, value, size: value.length });

/** A client whose only working calls are `keys` and `keysAfter`, over a sorted list, as a node pages it; calls note the first key asked for. */
function fakeClient(url: string, keys: readonly KeyEntry[], calls: (number | string)[] = []): NodeClient {
  const next = (end: number) => (end < keys.length ? keys[end - 1]!.key : null);
  return {
    nodeUrl: url,
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
  } as unknown as NodeClient;
}

/** A cluster scan over `keys` in the given (ring) order, `limit` per page; `asked` notes each page's cursor and limit. */
function scanningClient(keys: readonly string[], asked: [string | null, number][] = []): NodeClient {
  return {
    nodeUrl: A,
    scan: async (cursor: string | null, limit: number) => {
      asked.push([cursor, limit]);
      const start = cursor === null ? 0 : Number(cursor);
      const end = Math.min(keys.length, start + limit);
      const page = keys.slice(start, end).map((key, i) => ({ key, value: `vé-${key}`, version: { wallMs: 1_000 + start + i, counter: 0, node: B }, expiresAtMs: null }));
      return { keys: page, next: end < keys.length ? String(end) : null };
    },
  } as unknown as NodeClient;
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

});

describe("scanning the cluster", () => {
  test("reads pages until the scan ends, each key once, sorted by key, with who wrote its newest version", async () => {
    const keys = Array.from({ length: 2_500 }, (_, i) => `k${String((i * 7919) % 2_500).padStart(4, "0")}`);
    const asked: [string | null, number][] = [];
    const listing = await scanCluster(scanningClient(keys, asked));
    expect(asked).toEqual([
      [null, 1_000],
      ["1000", 1_000],
      ["2000", 1_000],
    ]);
    expect(listing.cut).toBe(false);
    expect(listing.rows.map((r) => r.key)).toEqual([...keys].sort());
    expect(listing.rows[0]).toMatchObject({ value: "vé-k0000", size: Buffer.byteLength("vé-k0000"), written: { node: B } });
  });

  test("stops at its bound, asking no more than it keeps, and says the listing is cut", async () => {
    const keys = Array.from({ length: 2_500 }, (_, i) => `k${i}`);
    const asked: [string | null, number][] = [];
    const listing = await scanCluster(scanningClient(keys, asked), 1_500);
    expect(asked).toEqual([
      [null, 1_000],
      ["1000", 500],
    ]);
    expect(listing.rows).toHaveLength(1_500);
    expect(listing.cut).toBe(true);
  });

  test("a failure keeps the client's error, and anything else thrown becomes one", () => {
    const refused = new ClientError("unavailable", "the cluster could not serve the request", 503, "unavailable");
    expect(failureOf(A, refused)).toEqual({ nodeUrl: A, error: refused });
    const other = failureOf(B, new TypeError("boom"));
    expect(other.error).toBeInstanceOf(ClientError);
    expect(other.error.kind).toBe("unreachable");
  });
});

describe("filtering and paging", () => {
  const rows = rowsOf({ nodeUrl: A, entries: [entry("product:1", "Lime"), entry("user:1", "Ada"), entry("user:2", "Grace")], total: 3 });

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
