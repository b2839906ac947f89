// The cluster-wide scan: every live key in ring order (by position, then key), a page at a time, each stretch
// of the ring read from one of its replicas (this node when it is one). The cursor is a ring position and the
// key last visited, so it stays good across ring changes: a key is where its hash puts it whatever the members.
import type { Arc } from "../ring/arcs.ts";
import { RING_MAX, type RingRange } from "../ring/range.ts";
import { isLive, type StoredRecord, type Version } from "../store/record.ts";
import { utf8Bytes } from "../store/limits.ts";
import { ringPosition, SEGMENT_COUNT, segmentEnd, SEGMENT_SHIFT } from "../store/segments.ts";
import { SEGMENTS_PER_ROUND_MAX } from "./anti-entropy.ts";
import { NodeError } from "./errors.ts";
import type { LimeNode } from "./node.ts";
import type { PeerTransport } from "./peer-transport.ts";
import type { ReplicaService } from "./replica-service.ts";

/** Keys one scan page holds at most; 100 when the caller names none. */
export const SCAN_LIMIT_MAX = 1_000;
export const SCAN_LIMIT_DEFAULT = 100;
/** Bytes of keys and values one page holds at most (always at least one entry), as a /keys page. */
export const SCAN_PAGE_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Reads from replicas one page may make: a prefix that matches little would otherwise walk the whole ring in
 * one request. Past it the page ends, possibly empty, with a cursor to go on from (as Redis's SCAN does).
 */
export const SCAN_READS_MAX = 64;
/** The longest cursor taken: a position, a key of at most KEY_BYTES_MAX escaped, and framing. */
export const SCAN_CURSOR_CHARS_MAX = 16 * 1024;

export interface ScanEntry {
  readonly key: string;
  readonly value: string;
  readonly version: Version;
  readonly expiresAtMs: number | null;
}

export interface ScanPage {
  readonly entries: ScanEntry[];
  /** The cursor of the next page, or null when the scan has visited the whole ring. */
  readonly next: string | null;
}

/** A page of one replica's records in ring order, as ReplicaService.segmentRecords gives it. */
export type RangePage = { records: StoredRecord[]; next: string | undefined };

export interface ClusterScanDeps {
  readonly self: string;
  /** The current ring's arcs with their replicas, in position order. */
  readonly arcs: () => readonly Arc[];
  /** Replicas no request goes to (held dead, or not answering lately). */
  readonly isDown: (replica: string) => boolean;
  /** Throws when this node may not coordinate now (still joining). */
  readonly ready: () => void;
  /** This node's own records of the ranges' segments, in ring order, after `after`. */
  readonly local: (ranges: readonly RingRange[], segments: readonly number[], after: string | undefined) => Promise<RangePage>;
  /** A replica's records, the same way (the peer transport's segmentRecords). */
  readonly remote: (target: string, ranges: readonly RingRange[], segments: readonly number[], after: string | undefined) => Promise<RangePage>;
  /** Wall-clock ms, for expiry. */
  readonly now: () => number;
}

/** Where a scan stands: at `position`, after the key `key` there (or from the position itself when null). */
interface Cursor {
  readonly position: bigint;
  readonly key: string | null;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ p: cursor.position.toString(), k: cursor.key })).toString("base64url");
}

export function decodeCursor(text: string): Cursor {
  const bad = () => new NodeError("bad_request", "cursor is not one a scan answered with; start again without one");
  if (text.length > SCAN_CURSOR_CHARS_MAX || !/^[A-Za-z0-9_-]*$/.test(text)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  if (typeof parsed !== "object" || parsed === null) throw bad();
  const { p, k } = parsed as { p?: unknown; k?: unknown };
  if (typeof p !== "string" || !/^(0|[1-9][0-9]{0,19})$/.test(p) || BigInt(p) > RING_MAX) throw bad();
  if (k !== null && (typeof k !== "string" || k === "" || ringPosition(k) !== BigInt(p))) throw bad();
  return { position: BigInt(p), key: k };
}

export function checkLimit(limit: number): void {
  if (!(Number.isSafeInteger(limit) && limit >= 1 && limit <= SCAN_LIMIT_MAX)) throw new NodeError("bad_request", `limit must be an integer from 1 to ${SCAN_LIMIT_MAX}`);
}

/**
 * The stretch of one read from `replica`: from `position` over the arc at `index` and every arc after it that
 * `replica` also holds, at most SEGMENTS_PER_ROUND_MAX segments long (a sparse ring is walked in few reads).
 */
function stretchFrom(arcs: readonly Arc[], index: number, position: bigint, replica: string): { range: RingRange; segments: number[] } {
  const first = Number(position >> SEGMENT_SHIFT);
  const segmentOfPosition = (at: bigint) => Number(at >> SEGMENT_SHIFT);
  let end = arcs[index]!.range.hi;
  for (let next = index + 1; next < arcs.length && segmentOfPosition(end) < first + SEGMENTS_PER_ROUND_MAX - 1 && arcs[next]!.replicas.includes(replica); next++) {
    end = arcs[next]!.range.hi;
  }
  const last = Math.min(first + SEGMENTS_PER_ROUND_MAX - 1, SEGMENT_COUNT - 1, segmentOfPosition(end));
  const hi = end < segmentEnd(last) ? end : segmentEnd(last);
  return { range: { lo: position, hi }, segments: Array.from({ length: last - first + 1 }, (_, i) => first + i) };
}

/** The index of the arc holding `position` (arcs cover the ring in order, the wrap-around stretch included). */
function arcAt(arcs: readonly Arc[], position: bigint): number | undefined {
  let low = 0;
  let high = arcs.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (arcs[middle]!.range.hi < position) low = middle + 1;
    else high = middle;
  }
  const arc = arcs[low];
  return arc !== undefined && arc.range.lo <= position && position <= arc.range.hi ? low : undefined;
}

export class ClusterScan {
  constructor(private readonly deps: ClusterScanDeps) {}

  /** One page of the scan from `cursor` (undefined: the start of the ring): up to `limit` live keys starting with `prefix`. */
  async page(cursorText: string | undefined, limit: number, prefix = ""): Promise<ScanPage> {
    const cursor = cursorText === undefined || cursorText === "" ? { position: 0n, key: null } : decodeCursor(cursorText);
    const walked = await this.walk(cursor, limit, prefix);
    return { entries: walked.entries, next: walked.next === null ? null : encodeCursor(walked.next) };
  }

  /**
   * One page from a ring position (Redis's SCAN, whose clients take cursors for integers): the cursor of the
   * next page is the position just after the last key visited, 0 once the ring is done. Keys sharing that key's
   * 64-bit position would be skipped (xxHash64: never seen at any key count this store holds).
   */
  async pageFromPosition(position: bigint, limit: number, prefix = ""): Promise<{ entries: ScanEntry[]; next: bigint }> {
    const walked = await this.walk({ position, key: null }, limit, prefix);
    if (walked.next === null) return { entries: walked.entries, next: 0n };
    const next = walked.next.key === null ? walked.next.position : walked.next.position + 1n;
    return { entries: walked.entries, next: next > RING_MAX ? 0n : next };
  }

  private async walk(start: Cursor, limit: number, prefix: string): Promise<{ entries: ScanEntry[]; next: Cursor | null }> {
    checkLimit(limit);
    let cursor = start;
    this.deps.ready();
    const arcs = this.deps.arcs();
    const entries: ScanEntry[] = [];
    let bytes = 0;
    const now = this.deps.now();
    for (let reads = 0; reads < SCAN_READS_MAX && entries.length < limit && bytes < SCAN_PAGE_BYTES_MAX; reads++) {
      const index = arcAt(arcs, cursor.position);
      if (index === undefined) throw new NodeError("unavailable", "no node of the cluster holds this part of the ring right now; retry with the same cursor");
      const { page, range } = await this.read(arcs, index, cursor.position, cursor.key ?? undefined);
      for (const record of page.records) {
        cursor = { position: ringPosition(record.key), key: record.key };
        if (!isLive(record, now) || !record.key.startsWith(prefix)) continue;
        entries.push({ key: record.key, value: record.value, version: record.version, expiresAtMs: record.expiresAtMs ?? null });
        bytes += utf8Bytes(record.key) + utf8Bytes(record.value);
        if (entries.length >= limit || bytes >= SCAN_PAGE_BYTES_MAX) break;
      }
      if (entries.length >= limit || bytes >= SCAN_PAGE_BYTES_MAX) break;
      if (page.next !== undefined) {
        cursor = { position: ringPosition(page.next), key: page.next };
        continue;
      }
      // The stretch is done: on to the position after it, or the end of the ring.
      if (range.hi === RING_MAX) return { entries, next: null };
      cursor = { position: range.hi + 1n, key: null };
    }
    return { entries, next: cursor };
  }

  /** A stretch from `position` read from one replica of its arc: this node when it holds it, else the others in turn while they fail. */
  private async read(arcs: readonly Arc[], index: number, position: bigint, after: string | undefined): Promise<{ page: RangePage; range: RingRange }> {
    const { self } = this.deps;
    const replicas = arcs[index]!.replicas;
    const candidates = replicas.includes(self) ? [self] : replicas.filter((replica) => !this.deps.isDown(replica));
    let failure: unknown = new NodeError("unavailable", `none of the replicas of this part of the ring can be reached (${replicas.join(", ")}); retry with the same cursor`);
    for (const replica of candidates) {
      const { range, segments } = stretchFrom(arcs, index, position, replica);
      try {
        const page = replica === self ? await this.deps.local([range], segments, after) : await this.deps.remote(replica, [range], segments, after);
        return { page, range };
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  }
}

/** The scan of a node's cluster: its ring's arcs, its own replica service, and its peers for the rest. */
export function nodeScan(node: LimeNode, replicas: ReplicaService, peers: Pick<PeerTransport, "segmentRecords">, now: () => number): ClusterScan {
  return new ClusterScan({
    self: node.nodeUrl,
    arcs: () => node.arcsFor(),
    isDown: (replica) => node.isDown(replica),
    ready: () => node.assertCoordinating("read"),
    local: (ranges, segments, after) => replicas.segmentRecords(ranges, segments, after),
    remote: (target, ranges, segments, after) => peers.segmentRecords(target, node.nodeUrl, ranges, segments, after),
    now,
  });
}
