// The one seam for everything nodes say to each other: gossip, replica reads and writes, anti-entropy, probes.
// The bus (src/bus) carries it between processes; the HTTP client (peer-client.ts) speaks the same operations to
// the internal routes; tests plug in an in-process fake. Observers (metrics, spans, reachability) wrap each call
// without knowing what carries it.
import type { GossipTransport } from "../membership/messages.ts";
import type { RingRange } from "../ring/range.ts";
import type { PutOutcome, StoredRecord, Version } from "../store/record.ts";
import { NodeError, type NodeErrorCode } from "./errors.ts";
import type { PeerOp } from "./peer-wire.ts";

export interface PeerTransport extends GossipTransport {
  /** Whether the peer answers at all within the forward timeout: the probe of a peer held unreachable. */
  ping(target: string): Promise<boolean>;
  /** Stores records on a replica (last write wins there) and returns its outcome for each. */
  putReplica(target: string, records: readonly StoredRecord[], timeoutMs?: number): Promise<PutOutcome[]>;
  /**
   * putReplica of one record, with the caller's next step run on its outcome in the same callback; what `next`
   * throws rejects the call. Every replica write of a client's write passes here, on one promise, not one per layer.
   */
  putReplicaThen<R>(target: string, record: StoredRecord, next: (outcome: PutOutcome) => R): Promise<R>;
  /** A replica's record of a key, tombstones included, or undefined when it holds none. */
  getReplica(target: string, key: string): Promise<StoredRecord | undefined>;
  /**
   * getReplica with the caller's next step run on the record in the same callback, and `failed` (when given) on a
   * failure or on what `next` throws; else that rejects the call. A forwarded read passes here, so it waits on one
   * promise, not one per layer (each cost ~0.5 µs).
   */
  getReplicaThen<R>(target: string, key: string, next: (record: StoredRecord | undefined) => R, failed?: (error: unknown) => R | PromiseLike<R>): Promise<R>;
  /** Only the version of a replica's record (a digest read), or undefined when it holds none. */
  versionOf(target: string, key: string): Promise<Version | undefined>;
  /** Anti-entropy, step one: the groups of the digest tree that differ between this node and the target. */
  differingGroups(target: string, from: string, ranges: readonly RingRange[], digests: readonly number[]): Promise<number[]>;
  /** Anti-entropy, step two: the segments of those groups whose digests differ. */
  differingSegments(target: string, from: string, ranges: readonly RingRange[], groups: readonly number[], digests: readonly number[]): Promise<number[]>;
  /** Anti-entropy, step three: the target's shared records in those segments, a bounded page after `after`. */
  segmentRecords(target: string, from: string, ranges: readonly RingRange[], segments: readonly number[], after: string | undefined): Promise<{ records: StoredRecord[]; next: string | undefined }>;
  /** Drops what is kept for a peer that was removed from the cluster (its connection). */
  forget(target: string): void;
  /** Ends every connection; calls still waiting fail as unavailable, later ones too. */
  close(): void;
}

/** One call to a peer as an observer sees it: the operation (a metric label, a span name) and the peer. */
export interface PeerCall {
  readonly op: PeerOp;
  readonly target: string;
  /** Calls of `op` merged into this one on the wire (see call-merger.ts), each counting as a call; 1 when left out. */
  readonly items?: number;
}

/**
 * Wraps every call to a peer: tracing puts its trace context into `carrier` and times a client span; metrics
 * (counting the call and its failures) and reachability (whether the peer answered) are listeners, one wrapper for
 * both (listenAll). It calls `send` exactly once and returns (or throws) what `send` did.
 */
export type PeerObserver = <T>(call: PeerCall, carrier: Record<string, string>, send: () => Promise<T>) => Promise<T>;

/** Server spans for the calls peers make; given only when OTEL_ENDPOINT is set. */
export interface PeerCallTracing {
  /** Runs one call's handler inside a span continuing the caller's trace (`traceparent`, "" for none). */
  run<T>(op: PeerOp, traceparent: string, handle: () => Promise<T>): Promise<T>;
}

/**
 * How a call to a peer ended: what it returned, or what it threw. A merged call that was answered also names the
 * errors its items failed with on their own (a refusal each), so a listener can count them as the calls they stand for.
 */
export type PeerOutcome = { readonly value: unknown; readonly itemErrors?: readonly unknown[] } | { readonly error: unknown };

/**
 * An observer that only needs to hear how each call ended (metrics, reachability): told of the call as it starts,
 * it returns what to tell of its outcome. Listeners share one promise callback per call (`tellAll`, `heard`), where
 * an observer each adds its own; a merged call is told once, with its item count.
 */
export type PeerCallListener = (call: PeerCall) => (outcome: PeerOutcome) => void;

/** Listeners as one: each is told of every call as it starts and of its outcome, in order. */
export function tellAll(...listeners: readonly PeerCallListener[]): PeerCallListener {
  return (call) => {
    const told = listeners.map((listener) => listener(call));
    return (outcome) => {
      for (const tell of told) tell(outcome);
    };
  };
}

/** `sent`, with `listener` told of the call now and of its outcome when it settles; settles as `sent` does. */
export function heard<T>(listener: PeerCallListener | undefined, call: PeerCall, sent: Promise<T>): Promise<T> {
  if (listener === undefined) return sent;
  const tell = listener(call);
  return sent.then(
    (value) => {
      tell({ value });
      return value;
    },
    (error: unknown) => {
      tell({ error });
      throw error;
    },
  );
}

/**
 * The peer answered, with an error: it is reachable, and judged the call (a malformed body, a version from the
 * future) or failed itself (its store, its own quorum). `peerCode` is its code; the message is in this node's words.
 */
export class PeerRefusal extends NodeError {
  constructor(
    code: NodeErrorCode,
    message: string,
    readonly peerCode: string,
    /** The peer's wall time, when it refused a message of this node's as from the future. */
    readonly peerNowMs?: number,
  ) {
    super(code, message);
  }
}

/** How a call to a peer ended, for metrics: undefined when it answered as it should (or judged the request). */
export function peerFailure(outcome: PeerOutcome): string | undefined {
  if ("value" in outcome) {
    // The HTTP client observes the raw answer: a 5xx or a refused secret is the peer failing.
    if (outcome.value instanceof Response) {
      const status = outcome.value.status;
      return status >= 500 || status === 401 ? String(status) : undefined;
    }
    return undefined;
  }
  const { error } = outcome;
  if (error instanceof PeerRefusal) return PEER_FAULTS.has(error.peerCode) ? error.peerCode : undefined;
  return timedOut(error) ? "timeout" : "unreachable";
}

/** Codes of a refusal that are the peer's own failure, not its judgement of the call. */
const PEER_FAULTS = new Set(["unavailable", "store_unavailable", "internal", "unauthorized", "timeout"]);

/** Whether a call failed because its deadline passed (or it was aborted), not because the peer was unreachable. */
export function timedOut(error: unknown): boolean {
  if (error instanceof NodeError) return error.code === "timeout" && !(error instanceof PeerRefusal);
  const name = error instanceof Error ? error.name : "";
  return name === "TimeoutError" || name === "AbortError";
}

/** Whether the peer got the call and answered (any answer, an error included). */
export function peerAnswered(outcome: PeerOutcome): boolean {
  return "value" in outcome || outcome.error instanceof PeerRefusal;
}

/**
 * `promise` passed through `next`, and through `failed` (when given) when it rejects or `next` throws: the steps a
 * merged call runs as it settles an item, on a promise of any other call.
 */
export function stepped<T, R>(promise: Promise<T>, next: (value: T) => R | PromiseLike<R>, failed?: (error: unknown) => R | PromiseLike<R>): Promise<R> {
  if (failed === undefined) return promise.then(next);
  return promise.then((value) => {
    try {
      return next(value);
    } catch (error) {
      return failed(error);
    }
  }, failed);
}
