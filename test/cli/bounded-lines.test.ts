// Lines of a backup file read with a bound: a line past it fails once the bound is passed, before the rest is read.
import { describe, expect, test } from "bun:test";
import { boundedLines } from "../../src/cli/bounded-lines.ts";

class TooLong extends Error {}
const tooLong = (n: number) => new TooLong(`line ${n}`);

async function* chunksOf(...chunks: string[]): AsyncGenerator<string> {
  yield* chunks;
}

async function all(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

/** Endless text with no line break, 64 KiB a chunk, counting the chunks pulled; it stops only after `limit` chunks. */
function endless(pulled: { chunks: number }, limit: number): AsyncGenerator<string> {
  const chunk = "x".repeat(64 * 1024);
  return (async function* () {
    while (pulled.chunks < limit) {
      pulled.chunks++;
      yield chunk;
    }
  })();
}

describe("bounded lines", () => {
  test("splits at \\n across chunks, drops a \\r before it, and keeps a last line without one", async () => {
    expect(await all(boundedLines(chunksOf("a\r\nb", "c\n", "\nd"), 10, tooLong))).toEqual(["a", "bc", "", "d"]);
    // A "\r\n" split between two chunks.
    expect(await all(boundedLines(chunksOf("one\r", "\ntwo\r", "\n"), 10, tooLong))).toEqual(["one", "two"]);
    expect(await all(boundedLines(chunksOf("one\n"), 10, tooLong))).toEqual(["one"]);
    expect(await all(boundedLines(chunksOf(), 10, tooLong))).toEqual([]);
  });

  test("a line of exactly the bound passes; one character more fails, naming its line", async () => {
    expect(await all(boundedLines(chunksOf("ok\n", "12345\n"), 5, tooLong))).toEqual(["ok", "12345"]);
    // The "\r" of a "\r\n" is not the line's: a CRLF line of exactly the bound passes, also split before its "\n".
    expect(await all(boundedLines(chunksOf("12345\r\n"), 5, tooLong))).toEqual(["12345"]);
    expect(await all(boundedLines(chunksOf("12345\r", "\nok"), 5, tooLong))).toEqual(["12345", "ok"]);
    await expect(all(boundedLines(chunksOf("123456\r\n"), 5, tooLong))).rejects.toThrow("line 1");
    await expect(all(boundedLines(chunksOf("ok\n", "123456\n"), 5, tooLong))).rejects.toThrow("line 2");
    await expect(all(boundedLines(chunksOf("ok\n1234", "56"), 5, tooLong))).rejects.toThrow("line 2");
  });

  test("endless text without a line break fails after the bound, having read one chunk past it, not all of it", async () => {
    const pulled = { chunks: 0 };
    const bound = 1024 * 1024;
    await expect(all(boundedLines(endless(pulled, 1_000), bound, tooLong))).rejects.toThrow("line 1");
    expect(pulled.chunks).toBe(bound / (64 * 1024) + 1);
  });
});
