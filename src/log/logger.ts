// Structured JSON log lines on stdout: one per start, membership change, rebalance and error; per request only at debug.
import type { LogLevel } from "../config/settings.ts";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(node: string, minimum: LogLevel, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  return {
    log(level, message, fields = {}) {
      if (RANK[level] < RANK[minimum]) return;
      const line: Record<string, unknown> = { level, time: new Date().toISOString(), node, message };
      // A field named like the line's own keys (a peer's "node", say) must not pass for them.
      for (const [name, value] of Object.entries(fields)) if (!(name in line)) line[name] = value;
      write(JSON.stringify(line));
    },
  };
}

export function describeError(error: unknown): Record<string, unknown> {
  return error instanceof Error ? { error: error.message, errorName: error.name } : { error: String(error) };
}
