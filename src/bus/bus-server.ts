// The accepting side of the bus: a WebSocket on the node's HTTP port. Each connection proves its knowledge of
// CLUSTER_SECRET first (handshake.ts); then its CALLS frames are handled concurrently and the replies that are
// ready in one event-loop turn travel back in one REPLIES frame, in whatever order they finished.
import type { ServerWebSocket, WebSocketHandler } from "bun";
import { decodeFrame, encodeHello, encodeReplies, encodeWelcome, ENTRIES_PER_FRAME_MAX, FrameError, FrameKind, type Call, type Reply } from "./frame.ts";
import { clientProof, freshNonce, macsEqual, serverProof } from "./handshake.ts";

/** The path a node's bus answers on, on its HTTP port. */
export const BUS_PATH = "/api/v1/bus";
/**
 * The largest frame either side takes: a replica batch of up to RECORD_BYTES_PER_REQUEST_MAX of keys and values,
 * JSON-escaped, fits with room; larger closes the connection.
 */
export const BUS_FRAME_BYTES_MAX = 64 * 1024 * 1024;
/**
 * Replies ready in one turn travel together up to this many UTF-16 units of bodies; past it the frame goes at
 * once and the rest follow in the next, so a reply frame stays near the size of its largest answer.
 */
export const BUS_REPLY_FRAME_CHARS_MAX = 4 * 1024 * 1024;
/** Calls one connection may have running at once; more are answered "busy" at once, not queued. */
export const BUS_INFLIGHT_CALLS_MAX = 8192;
/** Bytes of replies waiting in one connection's socket buffer before it is closed as a peer that does not read. */
export const BUS_SEND_BUFFER_BYTES_MAX = 64 * 1024 * 1024;
/** A connection that has not proved the secret within this is closed. */
export const BUS_HANDSHAKE_TIMEOUT_MS = 5_000;
/**
 * Connections that have not proved the secret yet, from one address and in all. Until it proves the secret a
 * connection may send a frame of up to BUS_FRAME_BYTES_MAX, which Bun holds whole before the bus sees any of it, for
 * up to BUS_HANDSHAKE_TIMEOUT_MS: these bound what strangers can make a node hold (4 × 64 MiB from one address). A
 * peer proves within a few ms, so one rarely meets them; one that does is refused (503) and its link tries again
 * after its backoff.
 */
export const BUS_UNPROVEN_PER_ADDRESS_MAX = 4;
export const BUS_UNPROVEN_MAX = 64;

/** The connections not yet proven, by remote address (see BUS_UNPROVEN_PER_ADDRESS_MAX). */
export class UnprovenConnections {
  private readonly byAddress = new Map<string, number>();
  private total = 0;

  /** Takes a place for a connection from `address`; false when that address or the node has no place left. */
  take(address: string): boolean {
    const held = this.byAddress.get(address) ?? 0;
    if (held >= BUS_UNPROVEN_PER_ADDRESS_MAX || this.total >= BUS_UNPROVEN_MAX) return false;
    this.byAddress.set(address, held + 1);
    this.total++;
    return true;
  }

  release(address: string): void {
    const held = this.byAddress.get(address);
    if (held === undefined) return;
    if (held <= 1) this.byAddress.delete(address);
    else this.byAddress.set(address, held - 1);
    this.total--;
  }
}

/** A connection silent for this long is closed (peers ping far more often, through gossip). */
export const BUS_IDLE_TIMEOUT_S = 120;

/** WebSocket close codes the bus uses (4000-4999 are the application's). */
export const BUS_CLOSE = { badFrame: 4400, refused: 4401, handshakeTimeout: 4408, shutdown: 4503 } as const;

export interface BusServerOptions {
  readonly secret: string;
  /** Runs one call: resolves with the answer's JSON, or throws; `errorBody` turns what it throws into the reply. */
  readonly handle: (call: Call) => Promise<string>;
  readonly errorBody: (error: unknown) => string;
  /** Told why a connection was closed for breaking the protocol (a garbage frame, a wrong secret). */
  readonly onRefused?: (reason: string) => void;
}

export interface BusConnection {
  authenticated: boolean;
  readonly nonce: Uint8Array;
  /** Who the peer said it is in its proof (informational: the proof covers it). */
  from: string;
  inflight: number;
  replies: Reply[];
  replyChars: number;
  flushing: boolean;
  handshakeTimer: Timer | undefined;
  closed: boolean;
  /** The place this connection holds among those not yet proven, given back once it proves the secret or closes. */
  unproven: { readonly connections: UnprovenConnections; readonly address: string } | undefined;
}

/** A fresh connection's state, handed to server.upgrade as its data; `unproven` is the place it took, if any. */
export function newBusConnection(unproven?: BusConnection["unproven"]): BusConnection {
  return { authenticated: false, nonce: freshNonce(), from: "", inflight: 0, replies: [], replyChars: 0, flushing: false, handshakeTimer: undefined, closed: false, unproven };
}

/** Gives the connection's place among the unproven back, once. */
function leaveUnproven(connection: BusConnection): void {
  connection.unproven?.connections.release(connection.unproven.address);
  connection.unproven = undefined;
}

const BUSY = JSON.stringify({ code: "unavailable", error: "the peer has too many calls running on this connection" });

export function busWebSocket(options: BusServerOptions): WebSocketHandler<BusConnection> {
  const refuse = (ws: ServerWebSocket<BusConnection>, code: number, reason: string) => {
    options.onRefused?.(reason);
    ws.data.closed = true;
    ws.close(code, reason.slice(0, 120));
  };
  const flush = (ws: ServerWebSocket<BusConnection>) => {
    const connection = ws.data;
    connection.flushing = false;
    if (connection.closed || connection.replies.length === 0) return;
    const replies = connection.replies;
    const sizeHint = connection.replyChars + replies.length * 16;
    connection.replies = [];
    connection.replyChars = 0;
    ws.send(encodeReplies(replies, sizeHint));
  };
  const reply = (ws: ServerWebSocket<BusConnection>, entry: Reply) => {
    const connection = ws.data;
    if (connection.closed) return;
    connection.replies.push(entry);
    connection.replyChars += entry.body.length;
    // A frame holds at most so many entries; a full one goes at once, the rest at the end of this turn.
    if (connection.replies.length >= ENTRIES_PER_FRAME_MAX || connection.replyChars >= BUS_REPLY_FRAME_CHARS_MAX) flush(ws);
    else if (!connection.flushing) {
      connection.flushing = true;
      setImmediate(() => flush(ws));
    }
  };
  const run = (ws: ServerWebSocket<BusConnection>, call: Call) => {
    const connection = ws.data;
    if (connection.inflight >= BUS_INFLIGHT_CALLS_MAX) {
      reply(ws, { id: call.id, ok: false, body: BUSY });
      return;
    }
    connection.inflight++;
    let answer: Promise<string>;
    try {
      answer = options.handle(call);
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (body) => {
        connection.inflight--;
        reply(ws, { id: call.id, ok: true, body });
      },
      (error: unknown) => {
        connection.inflight--;
        reply(ws, { id: call.id, ok: false, body: options.errorBody(error) });
      },
    );
  };
  return {
    maxPayloadLength: BUS_FRAME_BYTES_MAX,
    backpressureLimit: BUS_SEND_BUFFER_BYTES_MAX,
    closeOnBackpressureLimit: true,
    idleTimeout: BUS_IDLE_TIMEOUT_S,
    // Frames are already compact; compressing them would cost CPU on every call.
    perMessageDeflate: false,
    open(ws) {
      ws.data.handshakeTimer = setTimeout(() => {
        if (!ws.data.authenticated && !ws.data.closed) refuse(ws, BUS_CLOSE.handshakeTimeout, "no proof of the cluster secret in time");
      }, BUS_HANDSHAKE_TIMEOUT_MS);
      ws.send(encodeHello(ws.data.nonce));
    },
    message(ws, message) {
      const connection = ws.data;
      if (connection.closed) return;
      if (typeof message === "string") return refuse(ws, BUS_CLOSE.badFrame, "text message on the bus");
      let frame;
      try {
        frame = decodeFrame(message);
      } catch (error) {
        return refuse(ws, BUS_CLOSE.badFrame, error instanceof FrameError ? error.message : "undecodable frame");
      }
      if (!connection.authenticated) {
        if (frame.kind !== FrameKind.proof) return refuse(ws, BUS_CLOSE.refused, "the first frame must prove the cluster secret");
        if (!macsEqual(frame.mac, clientProof(options.secret, connection.nonce, frame.nonce, frame.from))) return refuse(ws, BUS_CLOSE.refused, "wrong cluster secret");
        connection.authenticated = true;
        connection.from = frame.from;
        clearTimeout(connection.handshakeTimer);
        leaveUnproven(connection);
        ws.send(encodeWelcome(serverProof(options.secret, connection.nonce, frame.nonce)));
        return;
      }
      if (frame.kind !== FrameKind.calls) return refuse(ws, BUS_CLOSE.badFrame, "only calls are taken after the handshake");
      for (const call of frame.calls) run(ws, call);
    },
    close(ws) {
      ws.data.closed = true;
      clearTimeout(ws.data.handshakeTimer);
      leaveUnproven(ws.data);
    },
  };
}
