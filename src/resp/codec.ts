// The Redis protocol's wire format: commands arrive as RESP arrays of bulk strings (or, typed at a terminal, as
// inline lines); replies go out in RESP2 or, after HELLO 3, RESP3. Parsing is incremental and bounded: a frame
// past the limits is a protocol error that closes the connection, as Redis does.
import { concatAll } from "../net/bytes.ts";

/** Arguments one command may carry: an MSET or MGET of a full batch and its name. */
export const RESP_ARGS_MAX = 2 * 1_000 + 1;
/** An inline command line (telnet, nc) is at most this long. */
export const RESP_INLINE_BYTES_MAX = 64 * 1024;

export class RespProtocolError extends Error {
  override readonly name = "RespProtocolError";
}

const CR = 13;
const LF = 10;

/**
 * A parser of one connection's byte stream; `bulkBytesMax` bounds one argument and `commandBytesMax` the arguments of
 * one command together. Bytes are kept as they arrive and joined once enough are in to go on, and the arguments of a
 * command in progress are taken as each completes, so a large command costs about one copy of its bytes, however
 * many chunks it comes in.
 */
export class CommandParser {
  /** Bytes received and not yet parsed, in the order they came, and how many. */
  private chunks: Uint8Array[] = [];
  private have = 0;
  /** Bytes needed before parsing again is worth it: the rest of the bulk string being received, or one more. */
  private need = 1;
  /** The joined bytes while they are parsed. */
  private buffer: Uint8Array = new Uint8Array(0);
  /** Set when parseOne gives up: where in `buffer` the bytes to keep begin, and where they would end at least. */
  private keepFrom = 0;
  private wanted = 0;
  /** The multibulk command whose header and first arguments are in, waiting for the rest. */
  private partial: { readonly count: number; readonly args: Buffer[]; declared: number } | undefined;

  constructor(
    private readonly bulkBytesMax: number,
    private readonly commandBytesMax = Number.POSITIVE_INFINITY,
  ) {}

  /** Bytes held that do not yet make a whole command: those received and the arguments of the command in progress. */
  get pendingBytes(): number {
    return this.have + (this.partial?.declared ?? 0);
  }

  /** Bytes received and not yet parsed: at most the argument under way and the chunk that brought it. */
  get bufferedBytes(): number {
    return this.have;
  }

  /** Whether nothing of a command is held: no bytes waiting, no command in progress. */
  get idle(): boolean {
    return this.have === 0 && this.partial === undefined;
  }

  /** Takes bytes from the socket; returns every whole command they complete (each an array of arguments). */
  push(chunk: Uint8Array): Buffer[][] {
    this.chunks.push(chunk);
    this.have += chunk.length;
    if (this.have < this.need) return [];
    this.buffer = this.chunks.length === 1 ? this.chunks[0]! : concatAll(this.chunks, this.have);
    const commands: Buffer[][] = [];
    let at = 0;
    for (;;) {
      const parsed = this.parseOne(at);
      if (parsed === undefined) break;
      at = parsed.next;
      if (parsed.args.length > 0) commands.push(parsed.args);
    }
    const from = this.keepFrom;
    const rest = from === 0 ? this.buffer : this.buffer.slice(from);
    this.chunks = rest.length === 0 ? [] : [rest];
    this.have = rest.length;
    this.need = rest.length === 0 ? 1 : Math.max(rest.length + 1, this.wanted - from);
    this.buffer = new Uint8Array(0);
    return commands;
  }

  /** The next whole command from `start`, or undefined (keepFrom and wanted set) when it is not all in yet. */
  private parseOne(start: number): { args: Buffer[]; next: number } | undefined {
    const buffer = this.buffer;
    this.keepFrom = start;
    this.wanted = buffer.length + 1;
    if (start >= buffer.length) return undefined;
    let command = this.partial;
    let at = start;
    if (command === undefined) {
      if (buffer[start] !== 0x2a /* * */) return this.parseInline(start);
      const header = this.line(start + 1, 32);
      if (header === undefined) return undefined;
      const count = integerOf(header.text, "multibulk length");
      if (count > RESP_ARGS_MAX) throw new RespProtocolError(`too many arguments in one command (at most ${RESP_ARGS_MAX})`);
      command = { count, args: [], declared: 0 };
      at = header.next;
    }
    while (command.args.length < command.count) {
      // What is in is taken; the command waits, from the argument not yet whole, for the rest.
      this.partial = command;
      this.keepFrom = at;
      if (at >= buffer.length) return undefined;
      if (buffer[at] !== 0x24 /* $ */) throw new RespProtocolError(`expected '$', got '${String.fromCharCode(buffer[at]!)}'`);
      const length = this.line(at + 1, 32);
      if (length === undefined) return undefined;
      const bytes = integerOf(length.text, "bulk length");
      if (bytes > this.bulkBytesMax) throw new RespProtocolError(`an argument of ${bytes} bytes is over the limit of ${this.bulkBytesMax}`);
      if (command.declared + bytes > this.commandBytesMax) throw new RespProtocolError(`a command of more than ${this.commandBytesMax} bytes of arguments`);
      const end = length.next + bytes;
      if (end + 2 > buffer.length) {
        this.wanted = end + 2;
        return undefined;
      }
      if (buffer[end] !== CR || buffer[end + 1] !== LF) throw new RespProtocolError("a bulk string does not end with CRLF");
      command.args.push(Buffer.from(buffer.subarray(length.next, end)));
      command.declared += bytes;
      at = end + 2;
    }
    this.partial = undefined;
    return { args: command.args, next: at };
  }

  /** An inline command: words separated by spaces up to CRLF (or LF), as redis-cli's own inline mode and telnet send. */
  private parseInline(start: number): { args: Buffer[]; next: number } | undefined {
    const found = this.line(start, RESP_INLINE_BYTES_MAX);
    if (found === undefined) return undefined;
    const words = found.text.split(/\s+/).filter((word) => word !== "");
    return { args: words.map((word) => Buffer.from(word)), next: found.next };
  }

  /** The text up to the next CRLF from `start`, or undefined while it has not arrived; `max` bounds the line. */
  private line(start: number, max: number): { text: string; next: number } | undefined {
    const buffer = this.buffer;
    const limit = Math.min(buffer.length, start + max + 2);
    for (let i = start; i < limit; i++) {
      if (buffer[i] === LF) {
        const end = i > start && buffer[i - 1] === CR ? i - 1 : i;
        return { text: Buffer.from(buffer.subarray(start, end)).toString("latin1"), next: i + 1 };
      }
    }
    if (buffer.length - start > max + 2) throw new RespProtocolError("a line of the protocol is too long");
    return undefined;
  }
}

function integerOf(text: string, what: string): number {
  if (!/^-?\d{1,12}$/.test(text)) throw new RespProtocolError(`invalid ${what}`);
  const value = Number(text);
  if (value < 0) throw new RespProtocolError(`invalid ${what}`);
  return value;
}


/** A reply, built by commands and written in the connection's protocol version. */
export type Reply =
  | { readonly type: "simple"; readonly text: string }
  | { readonly type: "error"; readonly text: string }
  | { readonly type: "integer"; readonly value: number }
  | { readonly type: "bulk"; readonly value: string | Buffer }
  | { readonly type: "null" }
  | { readonly type: "array"; readonly items: readonly Reply[] }
  | { readonly type: "map"; readonly entries: readonly (readonly [Reply, Reply])[] };

export const reply = {
  ok: { type: "simple", text: "OK" } as Reply,
  simple: (text: string): Reply => ({ type: "simple", text }),
  error: (text: string): Reply => ({ type: "error", text }),
  integer: (value: number): Reply => ({ type: "integer", value }),
  bulk: (value: string | Buffer): Reply => ({ type: "bulk", value }),
  null: { type: "null" } as Reply,
  array: (items: readonly Reply[]): Reply => ({ type: "array", items }),
  map: (entries: readonly (readonly [Reply, Reply])[]): Reply => ({ type: "map", entries }),
};

/** The reply's bytes in RESP2 (`protocol` 2) or RESP3 (3): a null and a map differ between them. */
export function encodeReply(value: Reply, protocol: 2 | 3): Buffer {
  const parts: (string | Buffer)[] = [];
  const write = (r: Reply): void => {
    switch (r.type) {
      case "simple":
        parts.push(`+${r.text.replace(/[\r\n]/g, " ")}\r\n`);
        return;
      case "error":
        parts.push(`-${r.text.replace(/[\r\n]/g, " ")}\r\n`);
        return;
      case "integer":
        parts.push(`:${r.value}\r\n`);
        return;
      case "bulk": {
        const bytes = typeof r.value === "string" ? Buffer.from(r.value) : r.value;
        parts.push(`$${bytes.length}\r\n`, bytes, "\r\n");
        return;
      }
      case "null":
        parts.push(protocol === 3 ? "_\r\n" : "$-1\r\n");
        return;
      case "array":
        parts.push(`*${r.items.length}\r\n`);
        for (const item of r.items) write(item);
        return;
      case "map":
        parts.push(protocol === 3 ? `%${r.entries.length}\r\n` : `*${r.entries.length * 2}\r\n`);
        for (const [key, item] of r.entries) {
          write(key);
          write(item);
        }
        return;
    }
  };
  write(value);
  return Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part) : part)));
}
