// The query executor's text mode: which lines become which commands, and what a bad line is told.
import { describe, expect, test } from "bun:test";
import { COMMAND_LINES_MAX, commandText, parseCommand, parseCommands } from "../../src/dashboard/query-text.ts";

describe("a command line", () => {
  test.each([
    ["GET user:1", { method: "GET", key: "user:1" }],
    ["get user:1", { method: "GET", key: "user:1" }],
    ["  DEL user:1  ", { method: "DEL", key: "user:1" }],
    ["SET user:1 Ada", { method: "SET", key: "user:1", value: "Ada" }],
    ["SET user:1 Ada Lovelace, 1815", { method: "SET", key: "user:1", value: "Ada Lovelace, 1815" }],
    ['SET user:1 {"name": "Ada"}', { method: "SET", key: "user:1", value: '{"name": "Ada"}' }],
    ['SET k "  padded\\n"', { method: "SET", key: "k", value: "  padded\n" }],
    ['SET k ""', { method: "SET", key: "k", value: "" }],
    ['SET k "a" and more', { method: "SET", key: "k", value: '"a" and more' }],
    ['GET "key with spaces"', { method: "GET", key: "key with spaces" }],
    ['SET "a \\"quoted\\" key" v', { method: "SET", key: 'a "quoted" key', value: "v" }],
    ["GET a/b?c#d%20", { method: "GET", key: "a/b?c#d%20" }],
    ["DEL 🍋", { method: "DEL", key: "🍋" }],
  ])("%p is %p", (line, command) => {
    expect(parseCommand(line)).toEqual({ ok: true, command } as never);
  });

  test.each([
    ["PUT k v", "unknown command"],
    ["GET", "a key is missing"],
    ["GET a b", "GET takes one key"],
    ["DEL a b", "DEL takes one key"],
    ["SET k", "SET needs a value"],
    ['GET "unclosed', "not closed"],
    ['GET "a"b', "put a space after the quoted key"],
    ['GET ""', "must not be empty"],
  ])("%p is refused: %s", (line, message) => {
    const parsed = parseCommand(line);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(message);
  });
});

describe("a text of commands", () => {
  test("runs one command a line and skips blank lines and # comments", () => {
    const parsed = parseCommands("# seed\nSET a 1\n\n  GET a\r\nDEL a\n");
    expect(parsed.map((p) => (p.ok ? p.command.method : "error"))).toEqual(["SET", "GET", "DEL"]);
  });

  test(`refuses more than ${COMMAND_LINES_MAX} lines at once`, () => {
    const parsed = parseCommands(Array.from({ length: COMMAND_LINES_MAX + 1 }, (_, i) => `GET k${i}`).join("\n"));
    expect(parsed).toHaveLength(1);
    expect(parsed[0]?.ok).toBe(false);
  });

  test("writes a command back as text that parses to the same command", () => {
    for (const command of [
      { method: "SET", key: "plain", value: "v w" },
      { method: "GET", key: "with space" },
      { method: "DEL", key: 'quote"d' },
    ] as const) {
      expect(parseCommand(commandText(command))).toEqual({ ok: true, command });
    }
  });
});
