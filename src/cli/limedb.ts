#!/usr/bin/env bun
// `limedb`: the terminal client (package.json `bin`). Wires the real process streams to the command line and sets the exit code.
import { UsageError, type Io } from "./commands.ts";
import { runCli, type TuiRunner } from "./program.ts";

async function readStdin(maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = Bun.stdin.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) throw new UsageError(`the value on stdin is larger than ${maxBytes} bytes`);
    chunks.push(value);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new UsageError("the value on stdin is not UTF-8 text; LimeDB values are strings");
  }
}

const io: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  stdoutIsTty: process.stdout.isTTY === true,
  stdinIsTty: process.stdin.isTTY === true,
  readStdin,
};

const runTui: TuiRunner = async (seeds, timeoutMs) => {
  const { runTui: run } = await import("./tui/run.tsx");
  await run(seeds, timeoutMs);
};

/** Exit code of a bug in the client itself (sysexits' EX_SOFTWARE), kept apart from the codes scripts rely on. */
const EXIT_BUG = 70;

try {
  // exitCode rather than process.exit(): output still queued for a pipe is written before the process ends.
  process.exitCode = await runCli(process.argv.slice(2), io, runTui);
} catch (error) {
  process.stderr.write(`limedb: unexpected error (a bug in limedb): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = EXIT_BUG;
}
