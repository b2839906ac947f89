// The RESP codec alone: commands split across chunks and pipelined in one, inline commands, the bounds that
// make a frame a protocol error, and replies in RESP2 and RESP3.
import { describe, expect, test } from "bun:test";
import { CommandParser, encodeReply, reply, RESP_ARGS_MAX, RespProtocolError } from "../../src/resp/codec.ts";
import { seededRandom } from "../support/seeded-random.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const words = (commands: Buffer[][]) => commands.map((args) => args.map((arg) => arg.toString()));

describe("the command parser", () => {
  test("takes a command split across chunks, byte by byte", () => {
    const parser = new CommandParser(1024);
    const frame = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nhé!\r\n";
    const all: Buffer[][] = [];
    for (const byte of bytes(frame)) all.push(...parser.push(new Uint8Array([byte])));
    expect(words(all)).toEqual([["SET", "k", "hé!"]]);
    expect(parser.pendingBytes).toBe(0);
  });

  test("takes pipelined commands from one chunk, and inline ones", () => {
    const parser = new CommandParser(1024);
    expect(words(parser.push(bytes("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO  hi\r\n\r\n")))).toEqual([["PING"], ["GET", "k"], ["ECHO", "hi"]]);
  });

  test("keeps binary-safe arguments whole, CRLF inside included", () => {
    const parser = new CommandParser(1024);
    expect(words(parser.push(bytes("*2\r\n$3\r\nGET\r\n$4\r\na\r\nb\r\n")))).toEqual([["GET", "a\r\nb"]]);
  });

  test("a command of many large arguments in many chunks is parsed whole, holding no more than the argument under way", () => {
    const parser = new CommandParser(1 << 20);
    const values = Array.from({ length: 200 }, (_, i) => String.fromCharCode(97 + (i % 26)).repeat(16 * 1024));
    const frame = bytes(`*${values.length + 1}\r\n$4\r\nMSET\r\n${values.map((value) => `$${value.length}\r\n${value}\r\n`).join("")}*1\r\n$4\r\nPING\r\n`);
    const all: Buffer[][] = [];
    const chunk = 64 * 1024;
    for (let at = 0; at < frame.length; at += chunk) {
      all.push(...parser.push(frame.subarray(at, at + chunk)));
      // The arguments already whole are taken: what waits as bytes is the one under way, within one chunk.
      expect(parser.bufferedBytes).toBeLessThanOrEqual(16 * 1024 + chunk + 64);
    }
    expect(all.map((args) => args.length)).toEqual([values.length + 1, 1]);
    expect(all[0]!.slice(1).map((arg) => arg.toString())).toEqual(values);
    expect(parser.idle).toBe(true);
  });

  test("any chunking of a stream of commands gives the same commands as the stream in one piece", () => {
    const random = seededRandom(7);
    const stream = bytes(
      Array.from({ length: 40 }, (_, i) =>
        i % 5 === 4 ? `PING inline${i}\r\n` : `*3\r\n$3\r\nSET\r\n$${String(i).length + 1}\r\nk${i}\r\n$${(i * 37) % 300}\r\n${"v".repeat((i * 37) % 300)}\r\n`,
      ).join(""),
    );
    const whole = words(new CommandParser(1024).push(stream));
    expect(whole).toHaveLength(40);
    for (let round = 0; round < 200; round++) {
      const parser = new CommandParser(1024);
      const got: Buffer[][] = [];
      for (let at = 0; at < stream.length; ) {
        const size = 1 + Math.floor(random() * 400);
        got.push(...parser.push(stream.slice(at, at + size)));
        at += size;
      }
      expect(words(got)).toEqual(whole);
      expect(parser.idle).toBe(true);
    }
  });

  test("a command whose arguments together pass commandBytesMax is a protocol error as soon as their lengths say so", () => {
    const parser = new CommandParser(1024, 1500);
    expect(words(parser.push(bytes("*4\r\n$4\r\nMSET\r\n$1\r\nk\r\n$1000\r\n")))).toEqual([]);
    expect(() => parser.push(bytes(`${"v".repeat(1000)}\r\n$600\r\n`))).toThrow(RespProtocolError);
  });

  test.each([
    ["a bulk length that is not a number", "*1\r\n$abc\r\n"],
    ["a negative multibulk length", "*-5\r\n"],
    ["an argument over the limit", "*1\r\n$2000\r\n"],
    [`more than ${RESP_ARGS_MAX} arguments`, `*${RESP_ARGS_MAX + 1}\r\n`],
    ["a bulk string without its CRLF", "*1\r\n$1\r\nab\r\n"],
    ["a header line that never ends", `*${"1".repeat(100)}`],
  ])("%s is a protocol error", (_name, frame) => {
    expect(() => new CommandParser(1024).push(bytes(frame))).toThrow(RespProtocolError);
  });
});

describe("replies", () => {
  test("a null and a map differ between RESP2 and RESP3; the rest is the same", () => {
    const value = reply.array([reply.simple("OK"), reply.error("ERR no"), reply.integer(-2), reply.bulk("hé"), reply.null, reply.map([[reply.bulk("proto"), reply.integer(3)]])]);
    expect(encodeReply(value, 2).toString()).toBe("*6\r\n+OK\r\n-ERR no\r\n:-2\r\n$3\r\nhé\r\n$-1\r\n*2\r\n$5\r\nproto\r\n:3\r\n");
    expect(encodeReply(value, 3).toString()).toBe("*6\r\n+OK\r\n-ERR no\r\n:-2\r\n$3\r\nhé\r\n_\r\n%1\r\n$5\r\nproto\r\n:3\r\n");
  });

  test("a simple string or error cannot carry a line break onto the wire", () => {
    expect(encodeReply(reply.error("ERR a\r\n+OK"), 2).toString()).toBe("-ERR a  +OK\r\n");
  });
});
