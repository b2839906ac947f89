// The bus's client end of a WebSocket (RFC 6455) over a plain TCP socket (Bun.connect). Bun's own WebSocket client
// reads a message whole before anyone can look at its size, so a peer could make this node hold any number of
// bytes; here a frame's declared length is read first, and a message past the cap closes the connection before
// its payload is read. Binary messages only, as the bus sends; text, fragments, pings and closes are handled.
import type { Socket } from "bun";
import { SocketWrites } from "../net/socket-writes.ts";
import { concatAll } from "../net/bytes.ts";

/** Bytes of the server's answer to the upgrade (status line and headers) taken at most. */
export const WS_HANDSHAKE_BYTES_MAX = 16 * 1024;
/**
 * Bytes of pongs queued while the peer does not read; past it a ping goes unanswered (RFC 6455 section 5.5.3 asks
 * only that the latest be answered), so a peer that pings and never reads cannot grow this node's send queue.
 */
export const WS_PONG_BACKLOG_BYTES_MAX = 64 * 1024;
/** The largest control frame payload RFC 6455 allows. */
const CONTROL_PAYLOAD_BYTES_MAX = 125;
/** The GUID RFC 6455 appends to the key before hashing it into the accept header. */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Close codes this client reports (RFC 6455 section 7.4): no close frame, a protocol error, a message too big. */
export const WS_CLOSE = { abnormal: 1006, protocol: 1002, tooBig: 1009, normal: 1000 } as const;

const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface WsClientOptions {
  /** ws://host:port/path */
  readonly url: string;
  /** The largest message taken, in bytes; a frame or message past it closes the connection unread (code 1009). */
  readonly messageBytesMax: number;
  /** A whole binary message; the bytes may be a view into a buffer reused after the call returns. */
  readonly onMessage: (data: Uint8Array) => void;
  /** A text message (the bus never sends one): its length in bytes only. */
  readonly onText?: (bytes: number) => void;
  /** The connection ended, with the peer's close code or one of WS_CLOSE; called once, never after close(). */
  readonly onClose: (code: number) => void;
}

export class WsClient {
  private socket: Socket<undefined> | undefined;
  private closed = false;
  private upgraded = false;
  private readonly key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  /** Bytes received and not yet parsed, in the order they came, and how many. */
  private chunks: Uint8Array[] = [];
  private have = 0;
  /** Bytes needed before parsing again is worth it: the rest of a frame's header, or of the frame. */
  private need = 1;
  /**
   * The message being received in fragments: one buffer that doubles as it fills, up to the cap, so neither many
   * small fragments nor empty ones cost more than the bytes they carry.
   */
  private message: Uint8Array = new Uint8Array(0);
  private fragmentBytes = 0;
  private fragmentOp = 0;
  /** Where to go on looking for the end of the upgrade's answer: its bytes are scanned once, not per chunk. */
  private headScanned = 0;
  /** Frames the socket has not taken yet: before the upgrade, or while its buffer is full. */
  private readonly unsent = new SocketWrites();
  private readonly host: string;
  private readonly path: string;

  constructor(private readonly options: WsClientOptions) {
    const url = new URL(options.url);
    this.host = url.host;
    this.path = `${url.pathname}${url.search}`;
    const port = Number(url.port || (url.protocol === "wss:" ? 443 : 80));
    Bun.connect<undefined>({
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port,
      socket: {
        open: (socket) => this.opened(socket),
        data: (_socket, chunk) => this.received(chunk),
        drain: () => this.drained(),
        close: () => this.end(WS_CLOSE.abnormal),
        error: () => this.end(WS_CLOSE.abnormal),
        connectError: () => this.end(WS_CLOSE.abnormal),
      },
    }).catch(() => this.end(WS_CLOSE.abnormal));
  }

  /** Bytes written and not yet taken by the socket. */
  get bufferedAmount(): number {
    return this.unsent.bytes;
  }

  /** Sends one binary message; dropped once the connection ended. Before the upgrade it waits, in order. */
  send(data: Uint8Array): void {
    if (this.closed) return;
    this.write(frameOf(OP.binary, data));
  }

  /** Ends the connection at once; onClose is not called. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.end();
    this.socket = undefined;
    this.chunks = [];
    this.have = 0;
    this.message = new Uint8Array(0);
    this.unsent.clear();
  }

  private opened(socket: Socket<undefined>): void {
    if (this.closed) {
      socket.end();
      return;
    }
    this.socket = socket;
    socket.write(`GET ${this.path} HTTP/1.1\r\nHost: ${this.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  }

  private received(chunk: Uint8Array): void {
    if (this.closed) return;
    this.have += chunk.length;
    if (this.have < this.need) {
      // Kept past this call: a copy (a Buffer's slice() is a view), so a few bytes never pin a whole chunk.
      this.chunks.push(copyOf(chunk));
      if (!this.upgraded && this.have > WS_HANDSHAKE_BYTES_MAX) this.end(WS_CLOSE.protocol);
      return;
    }
    // Joined once, when a whole frame (or header) is in: a large message costs one copy, not one per chunk.
    this.chunks.push(chunk);
    const bytes = this.chunks.length === 1 ? chunk : concatAll(this.chunks, this.have);
    this.chunks = [];
    this.have = 0;
    let at = 0;
    if (!this.upgraded) {
      at = this.readUpgrade(bytes);
      if (at < 0) return;
    }
    at = this.readFrames(bytes, at);
    if (this.closed || at === bytes.length) {
      this.need = 1;
      return;
    }
    const rest = copyOf(bytes.subarray(at));
    this.chunks = [rest];
    this.have = rest.length;
  }

  /** Reads the server's answer to the upgrade: where the frames begin, or -1 while it is incomplete or once it failed. */
  private readUpgrade(bytes: Uint8Array): number {
    const end = indexOfHeadEnd(bytes, Math.max(0, this.headScanned - 3));
    if (end < 0 ? bytes.length > WS_HANDSHAKE_BYTES_MAX : end + 4 > WS_HANDSHAKE_BYTES_MAX) {
      this.end(WS_CLOSE.protocol);
      return -1;
    }
    if (end < 0) {
      this.headScanned = bytes.length;
      this.chunks = [copyOf(bytes)];
      this.have = bytes.length;
      this.need = bytes.length + 1;
      return -1;
    }
    const head = new TextDecoder().decode(bytes.subarray(0, end));
    const [status, ...lines] = head.split("\r\n");
    const accept = lines.find((line) => line.toLowerCase().startsWith("sec-websocket-accept:"))?.slice("sec-websocket-accept:".length).trim();
    const expected = new Bun.CryptoHasher("sha1").update(this.key + ACCEPT_GUID).digest("base64");
    if (!/^HTTP\/1\.1 101\b/.test(status ?? "") || accept !== expected) {
      this.end(WS_CLOSE.protocol);
      return -1;
    }
    this.upgraded = true;
    this.unsent.flush(this.socket);
    return end + 4;
  }

  /** Parses the whole frames in `bytes` from `at`; returns where the first incomplete one starts (and sets `need`). */
  private readFrames(bytes: Uint8Array, at: number): number {
    this.need = 1;
    while (!this.closed && at < bytes.length) {
      const left = bytes.length - at;
      if (left < 2) {
        this.need = 2;
        return at;
      }
      const first = bytes[at]!;
      const second = bytes[at + 1]!;
      const fin = (first & 0x80) !== 0;
      const op = first & 0x0f;
      // No extension was agreed, so the reserved bits are 0; a server never masks.
      if ((first & 0x70) !== 0 || (second & 0x80) !== 0) {
        this.end(WS_CLOSE.protocol);
        return at;
      }
      let length = second & 0x7f;
      let header = 2;
      if (length === 126) {
        header = 4;
        if (left < header) {
          this.need = header;
          return at;
        }
        length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
      } else if (length === 127) {
        header = 10;
        if (left < header) {
          this.need = header;
          return at;
        }
        const view = new DataView(bytes.buffer, bytes.byteOffset + at + 2, 8);
        length = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
      }
      const control = op >= OP.close;
      // Judged by its declared length, before a byte of its payload is kept.
      if (control ? length > CONTROL_PAYLOAD_BYTES_MAX || !fin : this.fragmentBytes + length > this.options.messageBytesMax) {
        this.end(control ? WS_CLOSE.protocol : WS_CLOSE.tooBig);
        return at;
      }
      if (left < header + length) {
        this.need = header + length;
        return at;
      }
      const payload = bytes.subarray(at + header, at + header + length);
      at += header + length;
      if (control) this.control(op, payload);
      else this.data(op, fin, payload);
    }
    return at;
  }

  /** A data frame: a whole message, or a fragment of one. */
  private data(op: number, fin: boolean, payload: Uint8Array): void {
    if (op !== OP.continuation) {
      if (this.fragmentOp !== 0 || (op !== OP.binary && op !== OP.text)) return this.end(WS_CLOSE.protocol);
      if (fin) return this.deliver(op, payload);
      this.fragmentOp = op;
    } else if (this.fragmentOp === 0) {
      return this.end(WS_CLOSE.protocol);
    }
    // A fragment outlives these bytes: it is copied into the message's one buffer (the cap was checked against its sum).
    const size = this.fragmentBytes + payload.length;
    if (size > this.message.length) {
      const grown = new Uint8Array(Math.min(this.options.messageBytesMax, Math.max(size, this.message.length * 2, 1024)));
      grown.set(this.message.subarray(0, this.fragmentBytes));
      this.message = grown;
    }
    this.message.set(payload, this.fragmentBytes);
    this.fragmentBytes = size;
    if (!fin) return;
    const message = this.message.subarray(0, size);
    const messageOp = this.fragmentOp;
    this.message = new Uint8Array(0);
    this.fragmentBytes = 0;
    this.fragmentOp = 0;
    this.deliver(messageOp, message);
  }

  private deliver(op: number, payload: Uint8Array): void {
    if (op === OP.text) this.options.onText?.(payload.length);
    else this.options.onMessage(payload);
  }

  private control(op: number, payload: Uint8Array): void {
    if (op === OP.ping) {
      if (this.unsent.bytes <= WS_PONG_BACKLOG_BYTES_MAX) this.write(frameOf(OP.pong, payload));
    } else if (op === OP.close) {
      // A close payload is empty or starts with a 2-byte code.
      if (payload.length === 1) return this.end(WS_CLOSE.protocol);
      const code = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : WS_CLOSE.abnormal;
      this.write(frameOf(OP.close, payload.subarray(0, 2)));
      this.end(code);
    } else if (op !== OP.pong) {
      this.end(WS_CLOSE.protocol);
    }
  }

  private write(frame: Uint8Array): void {
    this.unsent.send(this.upgraded ? this.socket : undefined, frame);
  }

  private drained(): void {
    if (this.upgraded) this.unsent.flush(this.socket);
  }

  /** The connection ends now (the peer closed it, broke the protocol or sent too much), unread past this point. */
  private end(code: number): void {
    if (this.closed) return;
    this.close();
    this.options.onClose(code);
  }
}

/**
 * One client frame. Masking (RFC 6455 section 5.3) keeps a browser's script from steering bytes into proxies'
 * caches; the bus talks to its peer directly, from no browser, so its key is zero and the payload goes as it is
 * (any key is valid, and this one costs no pass over the bytes).
 */
function frameOf(op: number, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = new Uint8Array(header + 4 + length);
  frame[0] = 0x80 | op;
  if (length < 126) {
    frame[1] = 0x80 | length;
  } else if (length < 65_536) {
    frame[1] = 0x80 | 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    const view = new DataView(frame.buffer, 2, 8);
    view.setUint32(0, Math.floor(length / 2 ** 32));
    view.setUint32(4, length >>> 0);
  }
  // The four mask bytes after the header stay 0.
  frame.set(payload, header + 4);
  return frame;
}

/** A copy of the bytes, never a view of the memory they are in (Buffer's own slice() makes a view). */
function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function indexOfHeadEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}
