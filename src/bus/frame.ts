// The bus's frames: one WebSocket message each, a kind byte, then little-endian fields. A CALLS frame carries
// every call queued for a peer in one event-loop turn, each with its id, operation, deadline, trace context
// and body; a REPLIES frame answers any number of them, in any order. Bodies are UTF-8 JSON.

/** The version byte every frame carries second; a peer speaking another refuses the frame. */
export const BUS_PROTOCOL_VERSION = 1;
/** A frame carries at most this many calls or replies: bounds what one message makes the receiver do. */
export const ENTRIES_PER_FRAME_MAX = 4096;
/** The nonces of the handshake, in bytes. */
export const NONCE_BYTES = 32;
/** An HMAC-SHA256, in bytes. */
export const MAC_BYTES = 32;
/** A trace context (W3C traceparent and tracestate) is cut to this many bytes. */
const TRACE_BYTES_MAX = 512;

export const FrameKind = { hello: 1, proof: 2, welcome: 3, calls: 4, replies: 5 } as const;

export interface Call {
  readonly id: number;
  readonly op: number;
  /** What the caller waits, in ms: the callee may drop a call whose caller has given up. */
  readonly timeoutMs: number;
  /** W3C trace context (traceparent[;tracestate]), or "" for none. */
  readonly trace: string;
  readonly body: string;
}

export interface Reply {
  readonly id: number;
  readonly ok: boolean;
  /** The answer's JSON, or for a failure {"code","error"}. */
  readonly body: string;
}

export type Frame =
  | { readonly kind: typeof FrameKind.hello; readonly nonce: Uint8Array }
  | { readonly kind: typeof FrameKind.proof; readonly nonce: Uint8Array; readonly mac: Uint8Array; readonly from: string }
  | { readonly kind: typeof FrameKind.welcome; readonly mac: Uint8Array }
  | { readonly kind: typeof FrameKind.calls; readonly calls: Call[] }
  | { readonly kind: typeof FrameKind.replies; readonly replies: Reply[] };

/** A frame that breaks the format: the connection that sent it is closed. */
export class FrameError extends Error {
  override readonly name = "FrameError";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A frame is written here, then copied out whole: one buffer for every frame instead of one (sized for the worst case) each. */
let scratch: Uint8Array = new Uint8Array(64 * 1024);
/** The scratch buffer kept between frames at most; a larger frame's buffer is dropped after it. */
const SCRATCH_BYTES_KEPT_MAX = 1024 * 1024;

/** Bytes of the scratch buffer kept between frames (for tests: it never stays past SCRATCH_BYTES_KEPT_MAX). */
export function frameScratchBytes(): number {
  return scratch.length;
}

/** Appends fields to a buffer that grows as needed. */
class Writer {
  private buffer: Uint8Array;
  private view: DataView;
  private at = 0;

  constructor(sizeHint: number) {
    // A frame larger than what is kept gets a buffer of its own, so the shared one never stays that large.
    this.buffer = sizeHint > SCRATCH_BYTES_KEPT_MAX ? new Uint8Array(sizeHint) : scratch.length >= sizeHint ? scratch : (scratch = new Uint8Array(sizeHint));
    this.view = new DataView(this.buffer.buffer);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.at + bytes));
    grown.set(this.buffer.subarray(0, this.at));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(value: number): void {
    this.room(1);
    this.buffer[this.at++] = value;
  }

  u16(value: number): void {
    this.room(2);
    this.view.setUint16(this.at, value, true);
    this.at += 2;
  }

  u32(value: number): void {
    this.room(4);
    this.view.setUint32(this.at, value, true);
    this.at += 4;
  }

  bytes(value: Uint8Array): void {
    this.room(value.length);
    this.buffer.set(value, this.at);
    this.at += value.length;
  }

  /** A string as UTF-8 after a length of `lengthBytes` (2 or 4). */
  text(value: string, lengthBytes: 2 | 4): void {
    // Most calls carry no trace context: an empty field is its length alone.
    if (value === "") return lengthBytes === 2 ? this.u16(0) : this.u32(0);
    // UTF-8 takes at most three bytes per UTF-16 unit.
    this.room(lengthBytes + value.length * 3);
    const start = this.at + lengthBytes;
    const { written } = encoder.encodeInto(value, this.buffer.subarray(start));
    if (lengthBytes === 2) this.view.setUint16(this.at, written, true);
    else this.view.setUint32(this.at, written, true);
    this.at = start + written;
  }

  /** The frame, copied out of the scratch buffer. */
  done(): Uint8Array {
    const frame = this.buffer.slice(0, this.at);
    // A scratch buffer that grew while writing is kept for the next frames, up to the bound.
    if (this.buffer.length <= SCRATCH_BYTES_KEPT_MAX && this.buffer.length > scratch.length) scratch = this.buffer;
    return frame;
  }
}

/** Reads fields from a frame's bytes; little-endian numbers by hand, as a DataView would need the bytes' ArrayBuffer (which a small array must first be given). */
class Reader {
  private at = 0;

  constructor(private readonly buffer: Uint8Array) {}

  private need(bytes: number): void {
    if (this.at + bytes > this.buffer.length) throw new FrameError("the frame ends inside a field");
  }

  u8(): number {
    this.need(1);
    return this.buffer[this.at++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.buffer;
    const at = this.at;
    this.at += 2;
    return b[at]! | (b[at + 1]! << 8);
  }

  u32(): number {
    this.need(4);
    const b = this.buffer;
    const at = this.at;
    this.at += 4;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
  }

  bytes(length: number): Uint8Array {
    this.need(length);
    const value = this.buffer.slice(this.at, this.at + length);
    this.at += length;
    return value;
  }

  text(lengthBytes: 2 | 4): string {
    const length = lengthBytes === 2 ? this.u16() : this.u32();
    if (length === 0) return "";
    this.need(length);
    try {
      return decoder.decode(this.buffer.subarray(this.at, (this.at += length)));
    } catch {
      throw new FrameError("a text field is not valid UTF-8");
    }
  }

  end(): void {
    if (this.at !== this.buffer.length) throw new FrameError("the frame has bytes after its last field");
  }
}

function header(kind: number, sizeHint: number): Writer {
  const writer = new Writer(sizeHint);
  writer.u8(kind);
  writer.u8(BUS_PROTOCOL_VERSION);
  return writer;
}

export function encodeHello(nonce: Uint8Array): Uint8Array {
  const writer = header(FrameKind.hello, 2 + NONCE_BYTES);
  writer.bytes(nonce);
  return writer.done();
}

export function encodeProof(nonce: Uint8Array, mac: Uint8Array, from: string): Uint8Array {
  const writer = header(FrameKind.proof, 4 + NONCE_BYTES + MAC_BYTES + from.length * 3);
  writer.bytes(nonce);
  writer.bytes(mac);
  writer.text(from, 2);
  return writer.done();
}

export function encodeWelcome(mac: Uint8Array): Uint8Array {
  const writer = header(FrameKind.welcome, 2 + MAC_BYTES);
  writer.bytes(mac);
  return writer.done();
}

export function encodeCalls(calls: readonly Call[], sizeHint: number): Uint8Array {
  const writer = header(FrameKind.calls, sizeHint);
  writer.u16(calls.length);
  for (const call of calls) {
    writer.u32(call.id);
    writer.u8(call.op);
    writer.u32(call.timeoutMs);
    writer.text(call.trace.length > TRACE_BYTES_MAX / 3 ? call.trace.slice(0, TRACE_BYTES_MAX / 3) : call.trace, 2);
    writer.text(call.body, 4);
  }
  return writer.done();
}

export function encodeReplies(replies: readonly Reply[], sizeHint: number): Uint8Array {
  const writer = header(FrameKind.replies, sizeHint);
  writer.u16(replies.length);
  for (const reply of replies) {
    writer.u32(reply.id);
    writer.u8(reply.ok ? 0 : 1);
    writer.text(reply.body, 4);
  }
  return writer.done();
}

/** Decodes one frame; anything that breaks the format throws FrameError. */
export function decodeFrame(data: Uint8Array): Frame {
  const reader = new Reader(data);
  const kind = reader.u8();
  const version = reader.u8();
  if (version !== BUS_PROTOCOL_VERSION) throw new FrameError(`protocol version ${version} is not ${BUS_PROTOCOL_VERSION}`);
  let frame: Frame;
  switch (kind) {
    case FrameKind.hello:
      frame = { kind, nonce: reader.bytes(NONCE_BYTES) };
      break;
    case FrameKind.proof:
      frame = { kind, nonce: reader.bytes(NONCE_BYTES), mac: reader.bytes(MAC_BYTES), from: reader.text(2) };
      break;
    case FrameKind.welcome:
      frame = { kind, mac: reader.bytes(MAC_BYTES) };
      break;
    case FrameKind.calls: {
      const count = entryCount(reader);
      const calls: Call[] = [];
      for (let i = 0; i < count; i++) {
        const id = reader.u32();
        const op = reader.u8();
        const timeoutMs = reader.u32();
        const trace = reader.text(2);
        if (trace.length > TRACE_BYTES_MAX) throw new FrameError("a trace context is too long");
        calls.push({ id, op, timeoutMs, trace, body: reader.text(4) });
      }
      frame = { kind, calls };
      break;
    }
    case FrameKind.replies: {
      const count = entryCount(reader);
      const replies: Reply[] = [];
      for (let i = 0; i < count; i++) {
        const id = reader.u32();
        const status = reader.u8();
        if (status > 1) throw new FrameError(`reply status ${status} is not 0 or 1`);
        replies.push({ id, ok: status === 0, body: reader.text(4) });
      }
      frame = { kind, replies };
      break;
    }
    default:
      throw new FrameError(`frame kind ${kind} is unknown`);
  }
  reader.end();
  return frame;
}

function entryCount(reader: Reader): number {
  const count = reader.u16();
  if (count === 0 || count > ENTRIES_PER_FRAME_MAX) throw new FrameError(`a frame must carry 1 to ${ENTRIES_PER_FRAME_MAX} entries, not ${count}`);
  return count;
}
