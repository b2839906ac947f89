// The peer transport over the bus: each call is one entry of a frame on the persistent, authenticated link to
// its peer (src/bus). Answers are held to the same byte caps and schemas as the HTTP client's, and failures
// come out in the same words: unreachable and refused are 503, a missed deadline is 504.
import { BUS_PATH, BUS_REPLY_FRAME_CHARS_MAX } from "../bus/bus-server.ts";
import { LinkError, PeerLink, type LinkFailure } from "../bus/peer-link.ts";
import type { Ack, Ack2, Syn } from "../membership/messages.ts";
import { GOSSIP_BODY_BYTES_MAX } from "../membership/schema.ts";
import type { RingRange } from "../ring/range.ts";
import type { PutOutcome, StoredRecord, Version } from "../store/record.ts";
import { NodeError, type NodeErrorCode } from "./errors.ts";
import { GROUPS_ANSWER_BYTES_MAX, OUTCOMES_ANSWER_BYTES_MAX, pageAnswerBytesMax, recordAnswerBytesMax, RESULTS_ANSWER_BYTES_MAX, SEGMENTS_ANSWER_BYTES_MAX, ERROR_ANSWER_BYTES_MAX, ERROR_CODE_CHARS_MAX, recordsAnswerBytesMax, VERSIONS_ANSWER_BYTES_MAX } from "./peer-answer-limits.ts";
import { heard, PeerRefusal, stepped, type PeerCallListener, type PeerObserver, type PeerTransport } from "./peer-transport.ts";
import { ANSWER_FULL_CODE, isAnswer, PEER_OPS, type PeerAnswer, type PeerBody, type PeerOp } from "./peer-wire.ts";
import { CallMerger, itemResultOf, type ItemResult } from "./call-merger.ts";
import { rangesToWire } from "./range-wire.ts";
import { fromCompact, fromWire, KEYS_PER_REQUEST_MAX, RECORDS_PER_REQUEST_MAX, toWire } from "./record-wire.ts";
import { turnEnd, type Schedule } from "../bus/turn-end.ts";

/** Bound on one streaming call (rebalancing, anti-entropy): many records, but never an endless wait. */
export const STREAM_TIMEOUT_MS = 30_000;
/** How often the links' deadlines are checked: a call fails at most this late after its deadline. */
export const BUS_SWEEP_MS = 20;
/** A peer that refused a merged call as unknown (a node from before it) gets one call per item for this long, in ms, then is asked again. */
export const MERGED_RECHECK_MS = 60_000;
/** A record whose key and value pass this many UTF-16 units goes in a call of its own: merging saves it nothing. */
export const MERGED_RECORD_CHARS_MAX = 64 * 1024;
/**
 * UTF-16 units of keys and values in one merged call. JSON may write a unit as six, so a call stays far below a
 * frame's bound however its values escape, as each record alone would.
 */
export const MERGED_CALL_CHARS_MAX = 512 * 1024;

/** The merged form of each operation a call of one item can join. */
const MERGED = { put: "putEach", version: "versionEach", get: "getEach" } as const satisfies Partial<Record<PeerOp, PeerOp>>;
/** What a merged answer's item maps to when it must be asked for alone. */
const ALONE = Symbol("alone");

export interface BusTransportOptions {
  readonly self: string;
  readonly secret: string;
  /** Bound on a replica call; past it the call fails as a timeout (504). */
  readonly callTimeoutMs: number;
  /** Bound on one gossip exchange; a slow peer only delays news to the next round. */
  readonly gossipTimeoutMs: number;
  /** VALUE_BYTES_MAX: bounds the answers that carry values. */
  readonly valueBytesMax: number;
  /** Monotonic ms. */
  readonly now: () => number;
  /** Wraps each call (tracing: a client span, whose trace context travels in the frame). */
  readonly observe?: PeerObserver;
  /**
   * Told of each call on the wire and how it ended (metrics, reachability). A merged call is told once, with its
   * item count: no callback per item.
   */
  readonly listen?: PeerCallListener;
  /** Told the wall time a peer gave when it refused this node's SYN as from the future (see peer-client.ts). */
  readonly onPeerClock?: (peer: string, peerWallMs: number, sentAtMs: number) => void;
  /** What carries calls to a peer; left out, a PeerLink on the bus. Tests pass an in-process one. */
  readonly channel?: (target: string) => Channel;
}

/** One peer's end of the transport: a PeerLink, or a test's in-process stand-in. Failures throw LinkError. */
export interface Channel {
  call(op: number, body: string, timeoutMs: number, trace: string): Promise<{ ok: boolean; body: string }>;
  /** Fails the calls whose deadline passed. */
  sweep(): void;
  close(): void;
}

interface ErrorReply {
  readonly code?: unknown;
  readonly nowMs?: unknown;
}

export class BusTransport implements PeerTransport {
  private readonly links = new Map<string, Channel>();
  private readonly sweeper: Timer;
  private closed = false;
  /** The end of the turn, shared by the mergers and the links: a turn's merged calls leave in that pass's frames. */
  private readonly schedule = turnEnd();
  /** Writes of one record made in one turn go to their peer together (see call-merger.ts). */
  private readonly puts = new CallMerger<StoredRecord, PutOutcome>({
    schedule: this.schedule,
    send: (target, records, timeoutMs) => this.putEach(target, records, timeoutMs),
    overloaded,
    itemsMax: RECORDS_PER_REQUEST_MAX,
    charsOf: recordChars,
    charsMax: MERGED_CALL_CHARS_MAX,
  });
  /** Whole reads of one turn (forwarded reads, fetches of the newest record) go to their peer together. */
  private readonly reads = keysMerger<StoredRecord | undefined>((target, keys, timeoutMs) => this.getEach(target, keys, timeoutMs), this.schedule);
  /** Digest reads of one turn go to their peer together. */
  private readonly versions = keysMerger<Version | undefined>((target, keys, timeoutMs) => this.versionEach(target, keys, timeoutMs), this.schedule);
  /** Merged operations a peer refused as unknown, by "op target", until when (monotonic ms) it gets one call per item. */
  private readonly unknownToPeer = new Map<string, number>();

  constructor(private readonly options: BusTransportOptions) {
    this.sweeper = setInterval(() => {
      for (const link of this.links.values()) link.sweep();
    }, BUS_SWEEP_MS);
  }

  async syn(target: string, message: Syn): Promise<Ack | undefined> {
    const sentAtMs = Date.now();
    try {
      const answer = await this.call(target, "gossip", message, this.options.gossipTimeoutMs, GOSSIP_BODY_BYTES_MAX);
      return answer.type === "ack" ? answer : undefined;
    } catch (error) {
      if (error instanceof PeerRefusal && error.peerCode === "clock_skew" && error.peerNowMs !== undefined) this.options.onPeerClock?.(target, error.peerNowMs, sentAtMs);
      return undefined;
    }
  }

  async ack2(target: string, message: Ack2): Promise<void> {
    try {
      await this.call(target, "gossip", message, this.options.gossipTimeoutMs, ERROR_ANSWER_BYTES_MAX);
    } catch {
      // A lost ACK2 is repaired by the next round.
    }
  }

  async ping(target: string): Promise<boolean> {
    try {
      await this.call(target, "ping", null, this.options.callTimeoutMs, ERROR_ANSWER_BYTES_MAX);
      return true;
    } catch (error) {
      return error instanceof PeerRefusal;
    }
  }

  async putReplica(target: string, records: readonly StoredRecord[], timeoutMs = this.options.callTimeoutMs): Promise<PutOutcome[]> {
    const [only] = records;
    // A write of one record (a replica write, a read repair) joins the turn's others to that peer.
    if (records.length === 1 && only !== undefined && recordChars(only) <= MERGED_RECORD_CHARS_MAX) {
      return [await this.one("put", target, () => this.puts.call(target, only, timeoutMs), (trace) => this.putNow(target, records, timeoutMs, trace).then(([outcome]) => outcome!))];
    }
    return this.observed("put", target, (trace) => this.putNow(target, records, timeoutMs, trace));
  }

  putReplicaThen<R>(target: string, record: StoredRecord, next: (outcome: PutOutcome) => R): Promise<R> {
    // The usual replica write: the merger runs `next` as it settles the call.
    if (this.options.observe === undefined && recordChars(record) <= MERGED_RECORD_CHARS_MAX && this.merges("put", target)) return this.puts.call(target, record, this.options.callTimeoutMs, next);
    return this.putReplica(target, [record]).then(([outcome]) => next(outcome!));
  }

  getReplica(target: string, key: string): Promise<StoredRecord | undefined> {
    const timeoutMs = this.options.callTimeoutMs;
    return this.one("get", target, () => this.reads.call(target, key, timeoutMs), (trace) => this.getNow(target, key, timeoutMs, trace));
  }

  getReplicaThen<R>(target: string, key: string, next: (record: StoredRecord | undefined) => R, failed?: (error: unknown) => R | PromiseLike<R>): Promise<R> {
    // The usual forwarded read: the merger runs `next` (or `failed`) as it settles the call.
    if (this.options.observe === undefined && this.merges("get", target)) return this.reads.call(target, key, this.options.callTimeoutMs, next, failed);
    return stepped(this.getReplica(target, key), next, failed);
  }

  versionOf(target: string, key: string): Promise<Version | undefined> {
    const timeoutMs = this.options.callTimeoutMs;
    return this.one("version", target, () => this.versions.call(target, key, timeoutMs), (trace) => this.versionNow(target, key, timeoutMs, trace));
  }

  /**
   * A call of one item that may join the turn's merged call of its kind (`merge`). With no observer wrapping calls
   * it goes straight in, and the merged call is heard once for all its items; else it is observed as a call of its
   * own (a span), and joins only when it carries no trace context, which only a call of its own can travel with.
   * A peer that refuses the merged form gets it `alone`.
   */
  private one<R>(op: keyof typeof MERGED, target: string, merge: () => Promise<R>, alone: (trace: string) => Promise<R>): Promise<R> {
    if (!this.merges(op, target)) return this.observed(op, target, alone);
    if (this.options.observe === undefined) return merge();
    return this.traced(op, target, (trace) => (trace === "" ? merge() : heard(this.options.listen, { op, target }, alone(trace))));
  }

  async differingGroups(target: string, from: string, ranges: readonly RingRange[], digests: readonly number[]): Promise<number[]> {
    const answer = await this.call(target, "digests", { from, ranges: rangesToWire(ranges), groups: [...digests] }, STREAM_TIMEOUT_MS, GROUPS_ANSWER_BYTES_MAX);
    return answer.groups;
  }

  async differingSegments(target: string, from: string, ranges: readonly RingRange[], groups: readonly number[], digests: readonly number[]): Promise<number[]> {
    const body = { from, ranges: rangesToWire(ranges), groups: [...groups], digests: [...digests] };
    return (await this.call(target, "segmentDigests", body, STREAM_TIMEOUT_MS, SEGMENTS_ANSWER_BYTES_MAX)).segments;
  }

  async segmentRecords(target: string, from: string, ranges: readonly RingRange[], segments: readonly number[], after: string | undefined): Promise<{ records: StoredRecord[]; next: string | undefined }> {
    const body = { from, ranges: rangesToWire(ranges), segments: [...segments], after: after ?? null };
    const answer = await this.call(target, "segmentRecords", body, STREAM_TIMEOUT_MS, pageAnswerBytesMax(this.options.valueBytesMax));
    return { records: answer.records.map(fromWire), next: answer.next ?? undefined };
  }

  /** Closes the link to a member that was removed: nothing will call it again. */
  forget(target: string): void {
    const removed = linkFailure(target, this.options.callTimeoutMs, new LinkError({ kind: "unreachable", sent: false, reason: "the member was removed" }));
    this.puts.drop(target, removed);
    this.versions.drop(target, removed);
    this.reads.drop(target, removed);
    for (const op of Object.values(MERGED)) this.unknownToPeer.delete(`${op} ${target}`);
    this.links.get(target)?.close();
    this.links.delete(target);
  }

  /** Whether calls of `op` to `target` may be merged: not while it refuses the merged form as unknown (see MERGED_RECHECK_MS). */
  private merges(op: keyof typeof MERGED, target: string): boolean {
    // Every peer takes merged calls once all run this version: no key to build per call then.
    if (this.unknownToPeer.size === 0) return true;
    const key = `${MERGED[op]} ${target}`;
    const untilMs = this.unknownToPeer.get(key);
    if (untilMs === undefined) return true;
    if (this.options.now() < untilMs) return false;
    this.unknownToPeer.delete(key);
    return true;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  private link(target: string): Channel {
    let link = this.links.get(target);
    if (link === undefined) {
      link =
        this.options.channel?.(target) ??
        new PeerLink({
          target,
          self: this.options.self,
          secret: this.options.secret,
          connectTimeoutMs: this.options.callTimeoutMs,
          stallAfterMs: this.options.callTimeoutMs,
          now: this.options.now,
          path: BUS_PATH,
          replyFrameBytesMax: replyFrameBytesMax(this.options.valueBytesMax),
          schedule: this.schedule,
        });
      if (this.closed) link.close();
      this.links.set(target, link);
    }
    return link;
  }

  private async putNow(target: string, records: readonly StoredRecord[], timeoutMs: number, trace: string): Promise<PutOutcome[]> {
    const answer = await this.exchange(target, "put", { records: records.map(toWire) }, timeoutMs, OUTCOMES_ANSWER_BYTES_MAX, trace);
    if (answer.outcomes.length !== records.length) throw garbage(target);
    return answer.outcomes;
  }

  private async getNow(target: string, key: string, timeoutMs: number, trace: string): Promise<StoredRecord | undefined> {
    const answer = await this.exchange(target, "get", { key }, timeoutMs, recordAnswerBytesMax(this.options.valueBytesMax), trace);
    return answer.record === null ? undefined : fromWire(answer.record);
  }

  /** The merger's call of whole reads: each key's record (or none), its own refusal, or a record the answer had no room for, asked for alone. */
  private getEach(target: string, keys: readonly string[], timeoutMs: number): Promise<ItemResult<StoredRecord | undefined>[]> {
    return this.each(
      target,
      "get",
      timeoutMs,
      () => this.exchange(target, "getEach", { keys, compact: true }, timeoutMs, recordsAnswerBytesMax(this.options.valueBytesMax), "").then(resultsOf),
      keys.length,
      (result, i) => {
        if (result === null) return { ok: true, value: undefined };
        // Compact as asked; whole from a node from before compact answers.
        if (Array.isArray(result)) return { ok: true, value: fromCompact(result, keys[i]!) };
        if (!("code" in result)) return { ok: true, value: fromWire(result) };
        return result.code === ANSWER_FULL_CODE ? ALONE : { ok: false, error: refusal(target, result) };
      },
      (i, leftMs) => this.getNow(target, keys[i]!, leftMs, ""),
    );
  }

  private async versionNow(target: string, key: string, timeoutMs: number, trace: string): Promise<Version | undefined> {
    return (await this.exchange(target, "version", { key }, timeoutMs, ERROR_ANSWER_BYTES_MAX, trace)).version ?? undefined;
  }

  /** The merger's call of writes: records judged one by one, each coming back as its outcome or its own refusal. */
  private putEach(target: string, records: readonly StoredRecord[], timeoutMs: number): Promise<ItemResult<PutOutcome>[]> {
    return this.each(
      target,
      "put",
      timeoutMs,
      () => this.exchange(target, "putEach", { records: records.map(toWire) }, timeoutMs, RESULTS_ANSWER_BYTES_MAX, "").then(resultsOf),
      records.length,
      (result) => ("applied" in result ? { ok: true, value: result } : { ok: false, error: refusal(target, result) }),
      (i, leftMs) => this.putNow(target, [records[i]!], leftMs, "").then(([outcome]) => outcome!),
    );
  }

  /** The merger's call of digest reads: each key's version (or none), or its own refusal. */
  private versionEach(target: string, keys: readonly string[], timeoutMs: number): Promise<ItemResult<Version | undefined>[]> {
    return this.each(
      target,
      "version",
      timeoutMs,
      () => this.exchange(target, "versionEach", { keys }, timeoutMs, VERSIONS_ANSWER_BYTES_MAX, "").then(resultsOf),
      keys.length,
      (result) => (result !== null && "code" in result ? { ok: false, error: refusal(target, result) } : { ok: true, value: result ?? undefined }),
      (i, leftMs) => this.versionNow(target, keys[i]!, leftMs, ""),
    );
  }

  /**
   * One merged call of `count` items: each answer turned into its item's result. A peer from before the merged
   * operation refuses it as unknown (this node never sends it a malformed body): it then gets each item as a call
   * of its own, within what is left of the deadline, and so for MERGED_RECHECK_MS. A chain of plain callbacks, not
   * async functions: every forwarded read's frame passes here (the awaits cost a forwarded GET about 2 % of its
   * rate; /tmp/cpu/fwd.ts).
   */
  private each<A, R>(
    target: string,
    op: keyof typeof MERGED,
    timeoutMs: number,
    merged: () => Promise<readonly A[]>,
    count: number,
    toResult: (answer: A, i: number) => ItemResult<R> | typeof ALONE,
    alone: (i: number, leftMs: number) => Promise<R>,
  ): Promise<ItemResult<R>[]> {
    const startedMs = this.options.now();
    const leftMs = () => Math.max(1, Math.ceil(startedMs + timeoutMs - this.options.now()));
    // Told once for the items (each counts as a call), with each item's own failure; an item asked alone is part
    // of its item, not a call besides.
    const tell = this.options.listen?.({ op, target, items: count });
    const asked = (i: number, left: number) => itemResultOf(alone(i, left));
    const told = (results: ItemResult<R>[]) => {
      if (tell === undefined) return results;
      // Most merged calls have no item that failed: no array is made for them.
      let itemErrors: unknown[] | undefined;
      for (const result of results) if (!result.ok) (itemErrors ??= []).push(result.error);
      tell({ value: results, itemErrors });
      return results;
    };
    const answered = (answers: readonly A[]): ItemResult<R>[] | Promise<ItemResult<R>[]> => {
      if (answers.length !== count) throw garbage(target);
      // An item the answer had no room for is asked for alone, within what is left of the deadline.
      const results = answers.map(toResult);
      if (!results.includes(ALONE)) return told(results as ItemResult<R>[]);
      const left = leftMs();
      return Promise.all(results.map((result, i) => (result === ALONE ? asked(i, left) : result))).then(told);
    };
    const failed = (error: unknown): Promise<ItemResult<R>[]> => {
      tell?.({ error });
      if (!(error instanceof PeerRefusal && error.peerCode === "bad_request")) throw error;
      this.unknownToPeer.set(`${MERGED[op]} ${target}`, this.options.now() + MERGED_RECHECK_MS);
      const left = leftMs();
      return Promise.all(Array.from({ length: count }, (_, i) => asked(i, left)));
    };
    let sent: Promise<readonly A[]>;
    try {
      sent = merged();
    } catch (error) {
      sent = Promise.reject(error);
    }
    return stepped(sent, answered, failed);
  }

  private call<Op extends PeerOp>(target: string, op: Op, body: PeerBody<Op>, timeoutMs: number, answerBytesMax: number): Promise<PeerAnswer<Op>> {
    return this.observed(op, target, (trace) => this.exchange(target, op, body, timeoutMs, answerBytesMax, trace));
  }

  /** `send` as one call the observers see (spans) and the listener hears (metrics, reachability). */
  private observed<T>(op: PeerOp, target: string, send: (trace: string) => Promise<T>): Promise<T> {
    return this.traced(op, target, (trace) => heard(this.options.listen, { op, target }, send(trace)));
  }

  /**
   * `send` wrapped by the observer, given the trace context it set. Never throws: whatever goes wrong comes out as
   * the returned promise's rejection, as from an async function.
   */
  private traced<T>(op: PeerOp, target: string, send: (trace: string) => Promise<T>): Promise<T> {
    const carrier: Record<string, string> = {};
    const run = () => send(carrier.traceparent ?? "");
    try {
      return this.options.observe === undefined ? run() : this.options.observe({ op, target }, carrier, run);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** One call: sent on the target's link, its answer capped at `answerBytesMax` and checked against its schema. Never throws: a failure is the promise's rejection. */
  private exchange<Op extends PeerOp>(target: string, op: Op, body: PeerBody<Op>, timeoutMs: number, answerBytesMax: number, trace: string): Promise<PeerAnswer<Op>> {
    let sent: Promise<{ ok: boolean; body: string }>;
    try {
      sent = this.link(target).call(PEER_OPS[op], JSON.stringify(body), timeoutMs, trace);
    } catch (error) {
      sent = Promise.reject(error);
    }
    return sent.then(
      (reply) => answerOf(target, op, reply, answerBytesMax),
      (error: unknown) => {
        throw linkFailure(target, timeoutMs, error);
      },
    );
  }
}

/** A reply as its operation's answer: capped at `answerBytesMax`, parsed and checked against its schema; a refusal is thrown as the peer's. */
function answerOf<Op extends PeerOp>(target: string, op: Op, reply: { ok: boolean; body: string }, answerBytesMax: number): PeerAnswer<Op> {
  // UTF-16 units: a JSON answer of this many is at least as many bytes.
  if (reply.body.length > answerBytesMax) throw garbage(target);
  let answer: unknown;
  try {
    answer = JSON.parse(reply.body);
  } catch {
    throw garbage(target);
  }
  if (!reply.ok) throw refusal(target, answer as ErrorReply | null);
  if (!isAnswer(op, answer)) throw garbage(target);
  return answer;
}

/**
 * The largest reply frame a link takes: the largest single answer (a page of records, or an ACK) with the
 * replies a peer may put beside it (BUS_REPLY_FRAME_CHARS_MAX, at up to three UTF-8 bytes per unit) and frame headers.
 */
export function replyFrameBytesMax(valueBytesMax: number): number {
  return Math.max(pageAnswerBytesMax(valueBytesMax), recordAnswerBytesMax(valueBytesMax), GOSSIP_BODY_BYTES_MAX) + 3 * BUS_REPLY_FRAME_CHARS_MAX + 1024 * 1024;
}

/** A merged answer's results. */
function resultsOf<T>(answer: { readonly results: T }): T {
  return answer.results;
}

/** A merged call refused for the waiting bound: as a link refusing a call past its own. */
function overloaded(target: string, timeoutMs: number): NodeError {
  return linkFailure(target, timeoutMs, new LinkError({ kind: "unreachable", sent: false, reason: "too many calls are waiting on this peer" }));
}

/** A merger of calls of one key each, up to KEYS_PER_REQUEST_MAX keys per merged call. */
function keysMerger<R>(send: (target: string, keys: readonly string[], timeoutMs: number) => Promise<readonly ItemResult<R>[]>, schedule: Schedule): CallMerger<string, R> {
  return new CallMerger<string, R>({ send, overloaded, itemsMax: KEYS_PER_REQUEST_MAX, charsOf: (key) => key.length, charsMax: MERGED_CALL_CHARS_MAX, schedule });
}

/** A record's size for merging: its key and value in UTF-16 units. */
function recordChars(record: StoredRecord): number {
  return record.key.length + record.value.length;
}

/** The link's failure in the node's words: never the system's (which would tell a client which ports are open). */
function linkFailure(target: string, timeoutMs: number, error: unknown): NodeError {
  if (!(error instanceof LinkError)) return new NodeError("unavailable", `owner ${target} is unreachable`, { cause: error });
  const failure: LinkFailure = error.failure;
  switch (failure.kind) {
    case "timeout":
      return new NodeError("timeout", `owner ${target} did not answer within ${timeoutMs} ms; the write may or may not have been applied`, { cause: error });
    case "unreachable":
      return new NodeError("unavailable", failure.sent ? `owner ${target} was lost before it answered; the write may or may not have been applied` : `owner ${target} is unreachable`, { cause: error });
    case "refused":
      return new NodeError("unavailable", `owner ${target} refused this node's cluster secret; check CLUSTER_SECRET on both`, { cause: error });
    case "too_large":
      return new NodeError("too_large", `the call to ${target} is larger than a bus frame`, { cause: error });
  }
}

/** A peer's error answer passes on its code when a client could get it anyway, always in this node's own words. */
function refusal(target: string, reply: ErrorReply | null): PeerRefusal {
  const code = typeof reply?.code === "string" ? reply.code : "";
  const nowMs = typeof reply?.nowMs === "number" && Number.isSafeInteger(reply.nowMs) ? reply.nowMs : undefined;
  const known: Partial<Record<string, [NodeErrorCode, string]>> = {
    bad_request: ["bad_request", `owner ${target} refused the request as malformed`],
    clock_skew: ["clock_skew", `replica ${target} refused this node's version as from the future: this node's clock runs ahead of it`],
    too_large: ["too_large", `owner ${target} refused the request as too large`],
  };
  const [mapped, message] = known[code] ?? ["unavailable", `owner ${target} answered ${code === "" ? "an error" : code.slice(0, ERROR_CODE_CHARS_MAX).replace(/[^a-z_]/g, "")}`];
  return new PeerRefusal(mapped, message, code.slice(0, ERROR_CODE_CHARS_MAX), nowMs);
}

function garbage(target: string): NodeError {
  return new NodeError("unavailable", `owner ${target} answered something that is not a LimeDB reply`);
}
