// The connecting side of the bus: one persistent WebSocket to one peer. Calls made in one event-loop turn leave
// in one CALLS frame; replies come back in any order and are matched by id. Every call has a deadline; a peer
// that stops answering, refuses the secret or breaks the protocol loses its connection, and the next call after
// a backoff connects again.
import { BUS_CLOSE, BUS_FRAME_BYTES_MAX, BUS_SEND_BUFFER_BYTES_MAX } from "./bus-server.ts";
import { decodeFrame, encodeCalls, encodeProof, ENTRIES_PER_FRAME_MAX, FrameKind, type Frame } from "./frame.ts";
import { clientProof, freshNonce, macsEqual, serverProof } from "./handshake.ts";
import { WS_CLOSE, WsClient } from "./ws-client.ts";
import { nextImmediate, type Schedule } from "./turn-end.ts";

/** Calls waiting on one link (queued or sent, unanswered); past it a call fails at once rather than queue. */
export const LINK_CALLS_MAX = 16_384;
/** The first wait before connecting again after a failure; it doubles up to RECONNECT_MAX_MS while failures go on. */
export const RECONNECT_MIN_MS = 100;
export const RECONNECT_MAX_MS = 2_000;

/** Why a call failed, as the transport turns it into the node's vocabulary. */
export type LinkFailure =
  | { readonly kind: "timeout"; readonly sent: boolean }
  | { readonly kind: "unreachable"; readonly sent: boolean; readonly reason: string }
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "too_large" };

export class LinkError extends Error {
  override readonly name = "LinkError";
  constructor(readonly failure: LinkFailure) {
    super(failure.kind);
  }
}

export interface LinkOptions {
  /** The peer's node URL (http://host:port); the link speaks to ws://host:port/api/v1/bus. */
  readonly target: string;
  /** This node's URL, named in its proof. */
  readonly self: string;
  readonly secret: string;
  /** Bound on connecting and the handshake together. */
  readonly connectTimeoutMs: number;
  /**
   * A call with a deadline at least this long (a replica call or a probe, not a gossip exchange, whose short
   * deadline a busy peer may miss) that expires with nothing heard from the peer since it was sent means the
   * connection is dead (a cut or frozen peer): it is dropped, since TCP would retry it with ever longer waits
   * while a new connection goes through as soon as the cut heals. The calls it still carried fail as timeouts
   * at their own deadlines, or this long after the drop if that is sooner.
   */
  readonly stallAfterMs: number;
  /** Monotonic ms. */
  readonly now: () => number;
  readonly path: string;
  /** The largest reply frame taken: one past it drops the connection unread (a peer cannot make this node parse more). */
  readonly replyFrameBytesMax: number;
  /** When the turn's calls are sent in one frame: at the end of the turn (setImmediate when left out). */
  readonly schedule?: Schedule;
}

interface Pending {
  readonly id: number;
  readonly op: number;
  readonly timeoutMs: number;
  readonly trace: string;
  readonly body: string;
  readonly deadlineMs: number;
  sentAtMs: number | undefined;
  readonly resolve: (reply: { ok: boolean; body: string }) => void;
  readonly reject: (error: LinkError) => void;
}

export class PeerLink {
  private ws: WsClient | undefined;
  private state: "idle" | "connecting" | "ready" | "closed" = "idle";
  private queue: Pending[] = [];
  private readonly inflight = new Map<number, Pending>();
  private nextId = 1;
  private retryAtMs = 0;
  private backoffMs = RECONNECT_MIN_MS;
  /** When a frame last arrived on this connection (monotonic ms). */
  private lastHeardMs = Number.NEGATIVE_INFINITY;
  /** Calls sent on a connection dropped as stalled: they fail at their deadlines, as timeouts. */
  private orphans: Pending[] = [];
  private flushScheduled = false;
  private connectTimer: Timer | undefined;
  private clientNonce: Uint8Array | undefined;
  private serverNonce: Uint8Array | undefined;

  constructor(private readonly options: LinkOptions) {}

  /** Calls waiting for an answer or a slot in a frame. */
  get pending(): number {
    return this.queue.length + this.inflight.size + this.orphans.length;
  }

  call(op: number, body: string, timeoutMs: number, trace: string): Promise<{ ok: boolean; body: string }> {
    if (this.state === "closed") return Promise.reject(new LinkError({ kind: "unreachable", sent: false, reason: "the transport is closed" }));
    const now = this.options.now();
    if (this.state === "idle" && now < this.retryAtMs) return Promise.reject(new LinkError({ kind: "unreachable", sent: false, reason: "the last connection failed; waiting to connect again" }));
    if (this.pending >= LINK_CALLS_MAX || (this.ws?.bufferedAmount ?? 0) > BUS_SEND_BUFFER_BYTES_MAX) {
      return Promise.reject(new LinkError({ kind: "unreachable", sent: false, reason: "too many calls are waiting on this peer" }));
    }
    // A body that cannot fit a frame whatever else is in it: UTF-8 may take three bytes per UTF-16 unit.
    if (body.length > BUS_FRAME_BYTES_MAX / 3) return Promise.reject(new LinkError({ kind: "too_large" }));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.takeId(), op, timeoutMs, trace, body, deadlineMs: now + timeoutMs, sentAtMs: undefined, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        (this.options.schedule ?? nextImmediate)(() => this.flush());
      }
    });
  }

  /** Fails the calls whose deadline passed, and drops a connection that stalled (see stallAfterMs). */
  sweep(): void {
    if (this.pending === 0) return;
    const now = this.options.now();
    const expired = (pending: Pending) => now >= pending.deadlineMs;
    if (this.queue.some(expired)) {
      const late = this.queue.filter(expired);
      this.queue = this.queue.filter((pending) => !expired(pending));
      for (const pending of late) pending.reject(new LinkError({ kind: "timeout", sent: false }));
    }
    if (this.orphans.some(expired)) {
      const late = this.orphans.filter(expired);
      this.orphans = this.orphans.filter((pending) => !expired(pending));
      for (const pending of late) pending.reject(new LinkError({ kind: "timeout", sent: true }));
    }
    let stalled = false;
    for (const [id, pending] of this.inflight) {
      if (!expired(pending)) continue;
      this.inflight.delete(id);
      if (pending.timeoutMs >= this.options.stallAfterMs && this.lastHeardMs < pending.sentAtMs!) stalled = true;
      pending.reject(new LinkError({ kind: "timeout", sent: true }));
    }
    if (stalled) this.drop("the peer stopped answering on this connection", false, true);
  }

  close(): void {
    this.drop("the transport is closed");
    this.state = "closed";
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return id;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0) return;
    if (this.state === "idle") this.connect();
    if (this.state !== "ready" || this.ws === undefined) return;
    const now = this.options.now();
    while (this.queue.length > 0) {
      // One frame per turn unless entries or bytes overflow it.
      let chars = 0;
      let count = 0;
      while (count < this.queue.length && count < ENTRIES_PER_FRAME_MAX && (count === 0 || chars + this.queue[count]!.body.length <= BUS_FRAME_BYTES_MAX / 3)) {
        chars += this.queue[count]!.body.length + this.queue[count]!.trace.length;
        count++;
      }
      const batch = this.queue.slice(0, count);
      this.queue = this.queue.slice(count);
      for (const pending of batch) {
        pending.sentAtMs = now;
        this.inflight.set(pending.id, pending);
      }
      this.ws.send(encodeCalls(batch, chars + count * 16));
    }
  }

  private connect(): void {
    this.state = "connecting";
    const url = `${this.options.target.replace(/^http/, "ws")}${this.options.path}`;
    let ws: WsClient;
    try {
      ws = new WsClient({
        url,
        // A frame past the cap closes the connection before its payload is read (see ws-client.ts).
        messageBytesMax: this.options.replyFrameBytesMax,
        onMessage: (data) => {
          if (this.ws !== ws) return;
          this.lastHeardMs = this.options.now();
          let frame: Frame;
          try {
            frame = decodeFrame(data);
          } catch {
            return this.drop("the peer sent an undecodable frame");
          }
          this.receive(ws, frame);
        },
        onText: () => {
          if (this.ws === ws) this.drop("the peer sent text on the bus");
        },
        onClose: (code) => {
          if (this.ws !== ws) return;
          if (code === BUS_CLOSE.refused) this.drop("the peer refused this node's cluster secret; check CLUSTER_SECRET on both", true);
          else if (code === WS_CLOSE.tooBig) this.drop("the peer sent a frame past the reply cap");
          else this.drop("the connection closed");
        },
      });
    } catch (error) {
      this.drop(`cannot connect: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.ws = ws;
    this.connectTimer = setTimeout(() => {
      if (this.ws === ws && this.state === "connecting") this.drop("connecting timed out");
    }, this.options.connectTimeoutMs);
  }

  private receive(ws: WsClient, frame: Frame): void {
    switch (frame.kind) {
      case FrameKind.hello: {
        if (this.state !== "connecting" || this.serverNonce !== undefined) return this.drop("the peer said hello twice");
        this.serverNonce = frame.nonce;
        this.clientNonce = freshNonce();
        ws.send(encodeProof(this.clientNonce, clientProof(this.options.secret, frame.nonce, this.clientNonce, this.options.self), this.options.self));
        return;
      }
      case FrameKind.welcome: {
        if (this.state !== "connecting" || this.serverNonce === undefined || this.clientNonce === undefined) return this.drop("the peer welcomed out of turn");
        if (!macsEqual(frame.mac, serverProof(this.options.secret, this.serverNonce, this.clientNonce))) {
          return this.drop("the peer could not prove it knows the cluster secret; check CLUSTER_SECRET on both", true);
        }
        clearTimeout(this.connectTimer);
        this.state = "ready";
        this.backoffMs = RECONNECT_MIN_MS;
        this.flush();
        return;
      }
      case FrameKind.replies: {
        if (this.state !== "ready") return this.drop("the peer replied before the handshake");
        for (const reply of frame.replies) {
          const pending = this.inflight.get(reply.id);
          // A reply to a call that already timed out, or to none: nothing waits for it.
          if (pending === undefined) continue;
          this.inflight.delete(reply.id);
          pending.resolve(reply);
        }
        return;
      }
      default:
        return this.drop("the peer sent a frame only a connecting node sends");
    }
  }

  /**
   * Ends the connection; every call waiting on it fails (those sent on a stalled one at their deadlines, as
   * timeouts: the peer may yet have applied them), and the next connects after the backoff.
   */
  private drop(reason: string, refused = false, stalled = false): void {
    const ws = this.ws;
    this.ws = undefined;
    clearTimeout(this.connectTimer);
    this.serverNonce = undefined;
    this.clientNonce = undefined;
    if (this.state !== "closed") this.state = "idle";
    this.retryAtMs = this.options.now() + this.backoffMs;
    this.backoffMs = Math.min(RECONNECT_MAX_MS, this.backoffMs * 2);
    ws?.close();
    const queued = this.queue;
    this.queue = [];
    for (const pending of queued) pending.reject(new LinkError(refused ? { kind: "refused", reason } : { kind: "unreachable", sent: false, reason }));
    const sent = [...this.inflight.values()];
    this.inflight.clear();
    if (stalled && this.state !== "closed") {
      const cutOffMs = this.options.now() + this.options.stallAfterMs;
      this.orphans.push(...sent.map((pending) => ({ ...pending, deadlineMs: Math.min(pending.deadlineMs, cutOffMs) })));
      return;
    }
    for (const pending of sent) pending.reject(new LinkError(refused ? { kind: "refused", reason } : { kind: "unreachable", sent: true, reason }));
    const orphans = this.orphans;
    this.orphans = [];
    for (const pending of orphans) pending.reject(new LinkError({ kind: "unreachable", sent: true, reason }));
  }
}
