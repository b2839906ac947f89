// Structured JSON log lines on stdout: one per start, membership change and error, none per request.
import type { LogLevel } from "../config/settings.ts";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(node: string, minimum: LogLevel, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  return {
    log(level, message, fields = {}) {
      if (RANK[level] < RANK[minimum]) return;
      write(JSON.stringify({ level, time: new Date().toISOString(), node, message, ...fields }));
    },
  };
}

export function describeError(error: unknown): Record<string, unknown> {
  return error instanceof Error ? { error: error.message, errorName: error.name } : { error: String(error) };
}
