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
import { GROUPS_ANSWER_BYTES_MAX, OUTCOMES_ANSWER_BYTES_MAX, pageAnswerBytesMax, recordAnswerBytesMax, RESULTS_ANSWER_BYTES_MAX, SEGMENTS_ANSWER_BYTES_MAX, ERROR_ANSWER_BYTES_MAX, ERROR_CODE_CHARS_MAX } from "./peer-answer-limits.ts";
import { PeerRefusal, type PeerObserver, type PeerTransport } from "./peer-transport.ts";
import { isAnswer, PEER_OPS, type PeerAnswer, type PeerBody, type PeerOp } from "./peer-wire.ts";
import { mergeable, PutCoalescer } from "./put-coalescer.ts";
import type { PutResult } from "./replica-service.ts";
import { rangesToWire } from "./range-wire.ts";
import { fromWire, toWire } from "./record-wire.ts";

/** Bound on one streaming call (rebalancing, anti-entropy): many records, but never an endless wait. */
export const STREAM_TIMEOUT_MS = 30_000;
/** How often the links' deadlines are checked: a call fails at most this late after its deadline. */
export const BUS_SWEEP_MS = 20;
/** A peer that refused putEach as unknown (a node from before it) gets one put per record for this long, in ms, then is asked again. */
export const PUT_EACH_RECHECK_MS = 60_000;

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
  readonly observe?: PeerObserver;
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
  /** Writes of one record made in one turn go to their peer together (see put-coalescer.ts). */
  private readonly coalescer = new PutCoalescer({
    send: (target, records, timeoutMs) => this.putEach(target, records, timeoutMs),
    overloaded: (target, timeoutMs) => linkFailure(target, timeoutMs, new LinkError({ kind: "unreachable", sent: false, reason: "too many calls are waiting on this peer" })),
  });
  /** Peers that refused putEach as unknown, until when (monotonic ms) they get one put per record. */
  private readonly withoutPutEach = new Map<string, number>();

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
    // A write of one record (a replica write, a read repair) joins the turn's others to that peer unless it carries a
    // trace, whose context only a call of its own can travel with. Observed alone either way (metrics, reachability).
    if (records.length === 1 && only !== undefined && mergeable(only) && !this.takesNoPutEach(target)) {
      return [await this.observed("put", target, (trace) => (trace === "" ? this.coalescer.put(target, only, timeoutMs) : this.putNow(target, records, timeoutMs, trace).then(([outcome]) => outcome!)))];
    }
    return this.observed("put", target, (trace) => this.putNow(target, records, timeoutMs, trace));
  }

  async getReplica(target: string, key: string): Promise<StoredRecord | undefined> {
    const answer = await this.call(target, "get", { key }, this.options.callTimeoutMs, recordAnswerBytesMax(this.options.valueBytesMax));
    return answer.record === null ? undefined : fromWire(answer.record);
  }

  async versionOf(target: string, key: string): Promise<Version | undefined> {
    const answer = await this.call(target, "version", { key }, this.options.callTimeoutMs, ERROR_ANSWER_BYTES_MAX);
    return answer.version ?? undefined;
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
    this.coalescer.drop(target, linkFailure(target, this.options.callTimeoutMs, new LinkError({ kind: "unreachable", sent: false, reason: "the member was removed" })));
    this.withoutPutEach.delete(target);
    this.links.get(target)?.close();
    this.links.delete(target);
  }

  /** Whether `target` refused putEach as unknown lately (see PUT_EACH_RECHECK_MS). */
  private takesNoPutEach(target: string): boolean {
    const untilMs = this.withoutPutEach.get(target);
    if (untilMs === undefined) return false;
    if (this.options.now() < untilMs) return true;
    this.withoutPutEach.delete(target);
    return false;
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
        new PeerLink({ target, self: this.options.self, secret: this.options.secret, connectTimeoutMs: this.options.callTimeoutMs, stallAfterMs: this.options.callTimeoutMs, now: this.options.now, path: BUS_PATH, replyFrameBytesMax: replyFrameBytesMax(this.options.valueBytesMax) });
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

  /** The coalescer's call: records judged one by one, each coming back as its outcome or as its own refusal. */
  private async putEach(target: string, records: readonly StoredRecord[], timeoutMs: number): Promise<PutResult[]> {
    const startedMs = this.options.now();
    try {
      const answer = await this.exchange(target, "putEach", { records: records.map(toWire) }, timeoutMs, RESULTS_ANSWER_BYTES_MAX, "");
      if (answer.results.length !== records.length) throw garbage(target);
      return answer.results.map((result): PutResult => ("applied" in result ? { ok: true, outcome: result } : { ok: false, error: refusal(target, result) }));
    } catch (error) {
      if (!(error instanceof PeerRefusal && error.peerCode === "bad_request")) throw error;
      // A peer from before putEach refuses it as an unknown operation (this node never sends it a malformed body):
      // it gets each record as a put of its own, within what is left of the writes' deadline, and so for a while.
      this.withoutPutEach.set(target, this.options.now() + PUT_EACH_RECHECK_MS);
      const leftMs = Math.max(1, Math.ceil(startedMs + timeoutMs - this.options.now()));
      return Promise.all(
        records.map((record) =>
          this.putNow(target, [record], leftMs, "").then(
            ([outcome]): PutResult => ({ ok: true, outcome: outcome! }),
            (failure: unknown): PutResult => ({ ok: false, error: failure }),
          ),
        ),
      );
    }
  }

  private call<Op extends PeerOp>(target: string, op: Op, body: PeerBody<Op>, timeoutMs: number, answerBytesMax: number): Promise<PeerAnswer<Op>> {
    return this.observed(op, target, (trace) => this.exchange(target, op, body, timeoutMs, answerBytesMax, trace));
  }

  /** `send` as one call the observers see (metrics, reachability, spans), given the trace context they set. */
  private observed<T>(op: PeerOp, target: string, send: (trace: string) => Promise<T>): Promise<T> {
    const carrier: Record<string, string> = {};
    const run = () => send(carrier.traceparent ?? "");
    return this.options.observe === undefined ? run() : this.options.observe({ op, target }, carrier, run);
  }

  /** One call: sent on the target's link, its answer capped at `answerBytesMax` and checked against its schema. */
  private async exchange<Op extends PeerOp>(target: string, op: Op, body: PeerBody<Op>, timeoutMs: number, answerBytesMax: number, trace: string): Promise<PeerAnswer<Op>> {
    let reply: { ok: boolean; body: string };
    try {
      reply = await this.link(target).call(PEER_OPS[op], JSON.stringify(body), timeoutMs, trace);
    } catch (error) {
      throw linkFailure(target, timeoutMs, error);
    }
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
}

/**
 * The largest reply frame a link takes: the largest single answer (a page of records, or an ACK) with the
 * replies a peer may put beside it (BUS_REPLY_FRAME_CHARS_MAX, at up to three UTF-8 bytes per unit) and frame headers.
 */
export function replyFrameBytesMax(valueBytesMax: number): number {
  return Math.max(pageAnswerBytesMax(valueBytesMax), recordAnswerBytesMax(valueBytesMax), GOSSIP_BODY_BYTES_MAX) + 3 * BUS_REPLY_FRAME_CHARS_MAX + 1024 * 1024;
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
