// The logger: one JSON object per line with level, time, node, message and fields, filtered by LOG_LEVEL.
import { describe, expect, test } from "bun:test";
import { LOG_LEVELS, type LogLevel } from "../../src/config/settings.ts";
import { createLogger, describeError } from "../../src/log/logger.ts";

function captured(minimum: LogLevel) {
  const lines: string[] = [];
  return { lines, logger: createLogger("http://127.0.0.1:7001", minimum, (line) => lines.push(line)) };
}

describe("createLogger", () => {
  test("writes one JSON object per line: level, ISO time, node, message, then the fields", () => {
    const { lines, logger } = captured("info");
    logger.log("info", "membership changed", { member: "http://127.0.0.1:7002", from: "active", to: "dead" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("\n");
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(["level", "time", "node", "message", "member", "from", "to"]);
    expect(line).toMatchObject({ level: "info", node: "http://127.0.0.1:7001", message: "membership changed", to: "dead" });
    expect(new Date(line.time as string).toISOString()).toBe(line.time as string);
  });

  test.each(LOG_LEVELS.map((minimum) => [minimum]))("at LOG_LEVEL=%s only that level and above are written", (minimum) => {
    const { lines, logger } = captured(minimum);
    for (const level of LOG_LEVELS) logger.log(level, `a ${level} line`);
    const written = lines.map((line) => (JSON.parse(line) as { level: string }).level);
    expect(written).toEqual(LOG_LEVELS.slice(LOG_LEVELS.indexOf(minimum)));
  });

  test("fields cannot replace the line's own level, node or message", () => {
    const { lines, logger } = captured("debug");
    logger.log("warn", "real message", { level: "debug", message: "forged", node: "elsewhere" });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn", message: "real message", node: "http://127.0.0.1:7001" });
  });
});

describe("describeError", () => {
  test("gives an Error's message and name, and anything else as text", () => {
    expect(describeError(new RangeError("too far"))).toEqual({ error: "too far", errorName: "RangeError" });
    expect(describeError("plain")).toEqual({ error: "plain" });
  });
});
