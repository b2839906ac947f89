// The explorer's data: one node's own keys, or the cluster's (its cluster-wide scan), read page by page; filtered, paged.
import { KEYS_PAGE_SIZE_MAX } from "../client/node-client.ts";
import type { KeyEntry } from "./api-types.ts";
import { ClientError, type NodeClient } from "./nodes.ts";

/** Keys read for one listing at most; beyond it the explorer says the listing is cut short. */
export const SCAN_KEYS_MAX = 10_000;
/** Keys per page of the cluster-wide scan: the API's largest page. */
export const CLUSTER_SCAN_PAGE_KEYS = 1_000;

const encoder = new TextEncoder();
const utf8Bytes = (text: string) => encoder.encode(text).byteLength;

export interface Listing {
  readonly nodeUrl: string;
  readonly entries: readonly KeyEntry[];
  /** Keys the node reported in all, which is more than `entries` when the scan stopped at its bound. */
  readonly total: number;
}

export interface ListingFailure {
  readonly nodeUrl: string;
  readonly error: ClientError;
}

/** A key as the explorer shows it; the key panel asks its replicas where it lives. */
export interface KeyRow {
  readonly key: string;
  readonly value: string;
  readonly size: number;
  /** When and by which node the cluster's newest version was written (the cluster-wide scan says; a node's listing does not). */
  readonly written?: { readonly wallMs: number; readonly node: string };
}

/** The cluster's keys as its scan visits them: each live key once, the newest version, up to a bound. */
export interface ClusterListing {
  readonly rows: readonly KeyRow[];
  /** Whether the scan stopped at its bound with keys left unread. */
  readonly cut: boolean;
}

/**
 * Every live key of the cluster once (GET /api/v1/scan through one node), sorted by key, up to `keysMax`:
 * each key counted once however many replicas hold it.
 */
export async function scanCluster(client: NodeClient, keysMax = SCAN_KEYS_MAX): Promise<ClusterListing> {
  const rows: KeyRow[] = [];
  let cursor: string | null = null;
  do {
    const page = await client.scan(cursor, Math.min(CLUSTER_SCAN_PAGE_KEYS, keysMax - rows.length));
    for (const { key, value, version } of page.keys) {
      rows.push({ key, value, size: utf8Bytes(value), written: { wallMs: version.wallMs, node: version.node } });
    }
    cursor = page.next;
  } while (cursor !== null && rows.length < keysMax);
  return { rows: rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), cut: cursor !== null };
}

/** Every key of one node, in key order, up to `keysMax`. */
export async function scanNode(client: NodeClient, keysMax = SCAN_KEYS_MAX): Promise<Listing> {
  const entries: KeyEntry[] = [];
  let total = 0;
  // Page after page by cursor: each request costs one page on the node, however deep it reads.
  for (let answer = await client.keys(1, KEYS_PAGE_SIZE_MAX); ; answer = await client.keysAfter(answer.next!, KEYS_PAGE_SIZE_MAX)) {
    entries.push(...answer.keys);
    total = answer.total;
    if (answer.next === null || entries.length >= keysMax) break;
  }
  return { nodeUrl: client.nodeUrl, entries: entries.slice(0, keysMax), total };
}

/** A node's listing as rows. */
export function rowsOf(listing: Listing): KeyRow[] {
  return listing.entries.map(({ key, value, size }) => ({ key, value, size }));
}

/** A failure as the explorer shows it: the client's error, or any other thrown thing as one. */
export function failureOf(nodeUrl: string, error: unknown): ListingFailure {
  return { nodeUrl, error: error instanceof ClientError ? error : new ClientError("unreachable", `${nodeUrl}: ${String(error)}`) };
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
