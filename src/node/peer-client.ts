// The peer transport over HTTP: each call its own request to a peer's internal routes, with a timeout. The bus
// (bus-transport.ts) is what nodes use; this one speaks to the routes old tools and older nodes serve.
import type { Ack, Ack2, Syn } from "../membership/messages.ts";
import { GOSSIP_BODY_BYTES_MAX, isAck } from "../membership/schema.ts";
import { readBodyText } from "../net/bounded-read.ts";
import { SECRET_HEADER } from "../net/secret-header.ts";
import type { RingRange } from "../ring/range.ts";
import type { PutOutcome, StoredRecord, Version } from "../store/record.ts";
import { NodeError } from "./errors.ts";
import { rangesToWire } from "./range-wire.ts";
import {
  GROUPS_ANSWER_BYTES_MAX, SEGMENTS_ANSWER_BYTES_MAX,
  ERROR_ANSWER_BYTES_MAX,
  OUTCOMES_ANSWER_BYTES_MAX,
  pageAnswerBytesMax,
  recordAnswerBytesMax,
} from "./peer-answer-limits.ts";
import { stepped, timedOut, type PeerObserver, type PeerTransport } from "./peer-transport.ts";
import type { PeerOp } from "./peer-wire.ts";
import { STREAM_TIMEOUT_MS } from "./bus-transport.ts";
import { fromWire, isOutcomeBatch, isRecordBatch, isReplicaRead, toWire, type WireRecord } from "./record-wire.ts";

export { STREAM_TIMEOUT_MS, timedOut };
export type { PeerObserver };

/** The header that carries CLUSTER_SECRET on internal requests. */
export { SECRET_HEADER };

/** The route each operation is sent to; the merged calls the bus makes of one turn's calls (putEach, versionEach, getEach) have none. */
export const PEER_ROUTES: Record<Exclude<PeerOp, "putEach" | "versionEach" | "getEach">, string> = {
  ping: "/api/v1/health",
  gossip: "/gossip",
  put: "/api/v1/replica/put",
  get: "/api/v1/replica/get/",
  version: "/api/v1/replica/get/",
  digests: "/api/v1/replica/digests",
  segmentDigests: "/api/v1/replica/segment-digests",
  segmentRecords: "/api/v1/replica/segment-records",
};

export interface PeerClientOptions {
  readonly secret: string;
  /** Bound on a call to a peer (PEER_TIMEOUT_MS); past it the call fails as a timeout (504). */
  readonly callTimeoutMs: number;
  /** Bound on one gossip exchange; a slow peer only delays news to the next round. */
  readonly gossipTimeoutMs: number;
  /** VALUE_BYTES_MAX: bounds the answers that carry values, so a peer cannot make this node read more. */
  readonly valueBytesMax: number;
  readonly fetch?: typeof fetch;
  /** Sees every call; main passes metrics and, with OTEL_ENDPOINT set, tracing. */
  readonly observe?: PeerObserver;
  /**
   * Told the wall time a peer gave when it refused this node's SYN as from the future: a node whose clock
   * runs ahead of all its peers hears nothing else from them, and finds out its clock is wrong this way.
   */
  readonly onPeerClock?: (peer: string, peerWallMs: number, sentAtMs: number) => void;
}

/** The header in which a node refusing a message as from the future gives its own wall time (ms since the epoch). */
export const NOW_HEADER = "x-limedb-now-ms";

interface ErrorBody {
  code?: unknown;
}

export class PeerClient implements PeerTransport {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: PeerClientOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  async syn(target: string, message: Syn): Promise<Ack | undefined> {
    try {
      const sentAtMs = Date.now();
      const response = await this.send(target, "gossip", PEER_ROUTES.gossip, { method: "POST", body: JSON.stringify(message) }, this.options.gossipTimeoutMs);
      if (!response.ok) {
        const peerWallMs = Number(response.headers.get(NOW_HEADER) ?? Number.NaN);
        if (response.status === 400 && Number.isSafeInteger(peerWallMs)) this.options.onPeerClock?.(target, peerWallMs, sentAtMs);
        await response.body?.cancel();
        return undefined;
      }
      // An ACK past the gossip body limit is ignored like any other garbage; its sender's news waits.
      const body: unknown = JSON.parse(await readAnswer(response, GOSSIP_BODY_BYTES_MAX));
      return isAck(body) ? body : undefined;
    } catch {
      return undefined;
    }
  }

  async ack2(target: string, message: Ack2): Promise<void> {
    try {
      const response = await this.send(target, "gossip", PEER_ROUTES.gossip, { method: "POST", body: JSON.stringify(message) }, this.options.gossipTimeoutMs);
      // Read to the end (a short {"type":"done"} or error) so the connection can be reused; more is cut off.
      await readAnswer(response, ERROR_ANSWER_BYTES_MAX);
    } catch {
      // A lost ACK2 is repaired by the next round.
    }
  }

  /** Whether the peer answers at all (any status) within the forward timeout: the probe of a peer held unreachable. */
  async ping(target: string): Promise<boolean> {
    try {
      const response = await this.send(target, "ping", PEER_ROUTES.ping, { method: "GET" }, this.options.callTimeoutMs);
      await response.body?.cancel();
      return true;
    } catch {
      return false;
    }
  }

  /** Stores records on a replica (last write wins there) and returns its outcome for each. */
  async putReplica(target: string, records: readonly StoredRecord[], timeoutMs = this.options.callTimeoutMs): Promise<PutOutcome[]> {
    const body = JSON.stringify({ records: records.map(toWire) });
    const response = await this.forward(target, "put", PEER_ROUTES.put, { method: "POST", body }, timeoutMs);
    const answer = await this.readJson(response, target, OUTCOMES_ANSWER_BYTES_MAX);
    if (!isOutcomeBatch(answer) || answer.outcomes.length !== records.length) throw garbage(target);
    return answer.outcomes;
  }

  /** A replica's record of a key, tombstones included, or undefined when it holds none. */
  async getReplica(target: string, key: string, op: PeerOp = "get"): Promise<StoredRecord | undefined> {
    const response = await this.forward(target, op, `${PEER_ROUTES.get}${encodeURIComponent(key)}`, { method: "GET" });
    const answer = await this.readJson(response, target, recordAnswerBytesMax(this.options.valueBytesMax));
    if (!isReplicaRead(answer)) throw garbage(target);
    return answer.record === null ? undefined : fromWire(answer.record);
  }

  getReplicaThen<R>(target: string, key: string, next: (record: StoredRecord | undefined) => R, failed?: (error: unknown) => R | PromiseLike<R>): Promise<R> {
    return stepped(this.getReplica(target, key), next, failed);
  }

  putReplicaThen<R>(target: string, record: StoredRecord, next: (outcome: PutOutcome) => R): Promise<R> {
    return this.putReplica(target, [record]).then(([outcome]) => next(outcome!));
  }

  /** The internal routes have no version-only read: the whole record is read and its version kept. */
  async versionOf(target: string, key: string): Promise<Version | undefined> {
    return (await this.getReplica(target, key, "version"))?.version;
  }

  /** Nothing to close or forget: each call is its own request. */
  close(): void {}

  forget(_target: string): void {}

  /** Anti-entropy, step one: the groups of the digest tree that differ between this node and the target. */
  async differingGroups(target: string, from: string, ranges: readonly RingRange[], digests: readonly number[]): Promise<number[]> {
    return this.indexes(target, "digests", PEER_ROUTES.digests, { from, ranges: rangesToWire(ranges), groups: digests }, "groups", GROUPS_ANSWER_BYTES_MAX);
  }

  /** Anti-entropy, step two: the segments of those groups whose digests differ. */
  async differingSegments(target: string, from: string, ranges: readonly RingRange[], groups: readonly number[], digests: readonly number[]): Promise<number[]> {
    return this.indexes(target, "segmentDigests", PEER_ROUTES.segmentDigests, { from, ranges: rangesToWire(ranges), groups, digests }, "segments", SEGMENTS_ANSWER_BYTES_MAX);
  }

  /** Anti-entropy, step three: the target's shared records in those segments, a bounded page after `after`. */
  async segmentRecords(target: string, from: string, ranges: readonly RingRange[], segments: readonly number[], after: string | undefined): Promise<{ records: StoredRecord[]; next: string | undefined }> {
    const body = JSON.stringify({ from, ranges: rangesToWire(ranges), segments, after: after ?? null });
    const response = await this.forward(target, "segmentRecords", PEER_ROUTES.segmentRecords, { method: "POST", body }, STREAM_TIMEOUT_MS);
    const answer = (await this.readJson(response, target, pageAnswerBytesMax(this.options.valueBytesMax))) as { records?: unknown; next?: unknown };
    if (!isRecordBatch({ records: answer.records }) || !(answer.next === null || typeof answer.next === "string")) throw garbage(target);
    return { records: (answer.records as WireRecord[]).map(fromWire), next: answer.next ?? undefined };
  }

  /** A list of non-negative integers under `field`, the answer of the digest steps. */
  private async indexes(target: string, op: PeerOp, path: string, body: object, field: string, bytesMax: number): Promise<number[]> {
    const response = await this.forward(target, op, path, { method: "POST", body: JSON.stringify(body) }, STREAM_TIMEOUT_MS);
    const list = ((await this.readJson(response, target, bytesMax)) as Record<string, unknown>)[field];
    if (!Array.isArray(list) || !list.every((i) => Number.isInteger(i) && i >= 0)) throw garbage(target);
    return list as number[];
  }

  /** Sends a forwarded request; a peer that is down is 503, one that is too slow is 504. */
  private async forward(target: string, op: PeerOp, path: string, init: RequestInit, timeoutMs = this.options.callTimeoutMs): Promise<Response> {
    try {
      return await this.send(target, op, path, init, timeoutMs);
    } catch (error) {
      if (timedOut(error)) {
        throw new NodeError("timeout", `owner ${target} did not answer within ${timeoutMs} ms; the write may or may not have been applied`, { cause: error });
      }
      // The system's own words (connection refused, host not found) would tell a client which ports are open.
      throw new NodeError("unavailable", `owner ${target} is unreachable`, { cause: error });
    }
  }

  private send(target: string, op: PeerOp, path: string, init: RequestInit, timeoutMs: number): Promise<Response> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.options.secret !== "") headers[SECRET_HEADER] = this.options.secret;
    // The observer may add headers (trace context) before `send` runs, so they are read when it does.
    const send = () => this.fetch(`${target}${path}`, { ...init, headers, signal: AbortSignal.timeout(timeoutMs) });
    return this.options.observe === undefined ? send() : this.options.observe({ op, target }, headers, send);
  }

  /**
   * A peer's error answer passes on its code when it is one a client could get anyway, always in this
   * node's own words: a peer's text could be anything that answers on its port, and clients would read it.
   */
  private async failure(response: Response, target: string): Promise<never> {
    const code = await errorCode(response);
    if (response.status === 400 && code === "bad_request") throw new NodeError("bad_request", `owner ${target} refused the request as malformed`);
    // Its bound refused versions from beyond MAX_CLOCK_SKEW_MS: this node's clock runs ahead (replication acts on it).
    if (response.status === 400 && code === "clock_skew") throw new NodeError("clock_skew", `replica ${target} refused this node's version as from the future: this node's clock runs ahead of it`);
    if (response.status === 413) throw new NodeError("too_large", `owner ${target} refused the request as too large`);
    if (response.status === 401) throw new NodeError("unavailable", `owner ${target} refused this node's cluster secret; check CLUSTER_SECRET on both`);
    throw new NodeError("unavailable", `owner ${target} answered status ${response.status}`);
  }

  private async expectCode(response: Response, target: string, code: string): Promise<void> {
    if ((await errorCode(response)) !== code) throw new NodeError("unavailable", `owner ${target} answered ${response.status} without a known error`);
  }

  /** Every JSON answer of a peer is an object; `null` (also what an empty body parses to) or a bare value is garbage. */
  private async readJson(response: Response, target: string, bytesMax: number): Promise<unknown> {
    const text = await this.readText(response, target, bytesMax);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw garbage(target);
    }
    if (typeof body !== "object" || body === null) throw garbage(target);
    return body;
  }

  /** The answer's text, at most `bytesMax` bytes: past it the rest is never read, and the answer is garbage. */
  private async readText(response: Response, target: string, bytesMax: number): Promise<string> {
    if (!response.ok) return this.failure(response, target);
    try {
      return await readAnswer(response, bytesMax);
    } catch (error) {
      throw unreadable(target, error);
    }
  }
}

/** The `code` of a peer's error answer, read within ERROR_ANSWER_BYTES_MAX; undefined when it has none or is not JSON. */
async function errorCode(response: Response): Promise<unknown> {
  try {
    const body = JSON.parse(await readAnswer(response, ERROR_ANSWER_BYTES_MAX)) as ErrorBody | null;
    return body?.code;
  } catch {
    return undefined;
  }
}

/**
 * An answer's text within `bytesMax`. One that declares more is refused before a byte of it is read;
 * one that does not say (chunked) is cut off, and cancelled, when it passes the cap.
 */
function readAnswer(response: Response, bytesMax: number): Promise<string> {
  return readBodyText(response, { bytesMax });
}

/**
 * The timeout covers the body too: a peer that stops partway through its answer is slow (504), not
 * broken. One whose answer passes its cap, or breaks off, answered garbage (503).
 */
function unreadable(target: string, error: unknown): NodeError {
  if (!timedOut(error)) return garbage(target);
  return new NodeError("timeout", `owner ${target} did not finish its answer in time; the write may or may not have been applied`, { cause: error });
}

function garbage(target: string): NodeError {
  return new NodeError("unavailable", `owner ${target} answered something that is not a LimeDB reply`);
}
