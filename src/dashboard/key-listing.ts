// The explorer's data: every key of one node or of all members (read page by page), merged, filtered, paged.
import { ApiError, type Client, KEYS_PAGE_SIZE_MAX } from "./api-client.ts";
import type { KeyEntry } from "./api-types.ts";

/** Keys read from one node at most; beyond it the explorer says the listing is cut short. */
export const SCAN_KEYS_MAX = 10_000;

export interface Listing {
  readonly nodeUrl: string;
  readonly entries: readonly KeyEntry[];
  /** Keys the node reported in all, which is more than `entries` when the scan stopped at its bound. */
  readonly total: number;
}

export interface ListingFailure {
  readonly nodeUrl: string;
  readonly error: ApiError;
}

/** A key as the explorer shows it: where it lives, and whether the copies disagree (replication in flight). */
export interface KeyRow {
  readonly key: string;
  readonly value: string;
  readonly size: number;
  readonly holders: readonly string[];
  readonly divergent: boolean;
}

/** Every key of one node, in key order, up to `keysMax`. */
export async function scanNode(client: Client, keysMax = SCAN_KEYS_MAX): Promise<Listing> {
  const entries: KeyEntry[] = [];
  let total = 0;
  // Page after page by cursor: each request costs one page on the node, however deep it reads.
  for (let answer = await client.keys(1, KEYS_PAGE_SIZE_MAX); ; answer = await client.keysAfter(answer.next!, KEYS_PAGE_SIZE_MAX)) {
    entries.push(...answer.keys);
    total = answer.total;
    if (answer.next === null || entries.length >= keysMax) break;
  }
  return { nodeUrl: client.node.url, entries: entries.slice(0, keysMax), total };
}

/** Reads every node at once; a node that fails is reported beside the listings of those that answered. */
export async function scanNodes(clients: readonly Client[], keysMax = SCAN_KEYS_MAX): Promise<{ listings: Listing[]; failures: ListingFailure[] }> {
  const settled = await Promise.allSettled(clients.map((client) => scanNode(client, keysMax)));
  const listings: Listing[] = [];
  const failures: ListingFailure[] = [];
  settled.forEach((result, i) => {
    const nodeUrl = clients[i]?.node.url ?? "?";
    if (result.status === "fulfilled") listings.push(result.value);
    else failures.push({ nodeUrl, error: result.reason instanceof ApiError ? result.reason : new ApiError("network", String(result.reason), nodeUrl) });
  });
  return { listings, failures };
}

/** One row per key, sorted by key, naming every node whose listing has it. */
export function mergeListings(listings: readonly Listing[]): KeyRow[] {
  const rows = new Map<string, { key: string; value: string; size: number; holders: string[]; divergent: boolean }>();
  for (const listing of listings) {
    for (const entry of listing.entries) {
      const row = rows.get(entry.key);
      if (row === undefined) {
        rows.set(entry.key, { key: entry.key, value: entry.value, size: entry.size, holders: [listing.nodeUrl], divergent: false });
        continue;
      }
      row.holders.push(listing.nodeUrl);
      if (row.value !== entry.value) row.divergent = true;
    }
  }
  return [...rows.values()].map((row) => ({ ...row, holders: row.holders.sort() })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Rows whose key or value contains the filter, ignoring case; an empty filter keeps all. */
export function filterRows(rows: readonly KeyRow[], filter: string): KeyRow[] {
  const needle = filter.trim().toLowerCase();
  if (needle === "") return [...rows];
  return rows.filter((row) => row.key.toLowerCase().includes(needle) || row.value.toLowerCase().includes(needle));
}

export interface PageOf<T> {
  readonly items: readonly T[];
  /** 1-based, clamped to the pages there are. */
  readonly page: number;
  readonly totalPages: number;
}

export function pageOf<T>(items: readonly T[], page: number, pageSize: number): PageOf<T> {
  const totalPages = Math.max(1, Math.ceil(items.length / pageSize));
  const current = Math.min(Math.max(1, Math.floor(page)), totalPages);
  return { items: items.slice((current - 1) * pageSize, current * pageSize), page: current, totalPages };
}
