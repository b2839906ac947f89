// The Redis port's bound on replies a client has not read: past RESP_OUTPUT_BYTES_MAX the connection is cut and
// what waited for it is let go, even while the client holds its end open. The commands are a fake: this is the
// server's own test; test/resp/resp.test.ts drives the real ones with real Redis clients.
import { afterEach, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { reply } from "../../src/resp/codec.ts";
import type { RespCommands } from "../../src/resp/commands.ts";
import { RESP_OUTPUT_BYTES_MAX, RESP_QUEUED_BYTES_MAX, serveResp } from "../../src/resp/server.ts";

const VALUE_BYTES = 1024 * 1024;
/** How long the server may take to answer the pipeline and cut the connection (it takes ~0.2 s here). */
const CUT_WITHIN_MS = 10_000;
/** The test's own bound: the wait for the cut and the rest (Bun's default of 5 s would end it first). */
const TEST_TIMEOUT_MS = 20_000;
/** Reply bytes still held after the cut, at most: a few replies in flight, not the 64 MiB that waited. */
const HELD_AFTER_CUT_BYTES_MAX = 16 * 1024 * 1024;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

test("a client that pipelines GETs and never reads is cut off past RESP_OUTPUT_BYTES_MAX, and its unsent replies are let go", async () => {
  const value = "x".repeat(VALUE_BYTES);
  // Every command answers with the same 1 MiB value, as GETs of one big key would.
  const commands = { needsAuth: false, run: async () => reply.bulk(value) } as unknown as RespCommands;
  const refused: string[] = [];
  const server = serveResp({ hostname: "127.0.0.1", port: 0, commands, valueBytesMax: 2 * VALUE_BYTES, onRefused: (reason) => refused.push(reason) });
  cleanups.push(() => server.stop(true));
  Bun.gc(true);
  const before = process.memoryUsage().external;

  // A client that reads nothing: paused before it connects, it never takes a byte off its socket.
  const client: Socket = connect({ host: "127.0.0.1", port: server.port });
  client.pause();
  cleanups.push(() => client.destroy());
  await once(client, "connect");
  const gets = Math.ceil(RESP_OUTPUT_BYTES_MAX / VALUE_BYTES) + 16;
  client.write("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".repeat(gets));

  const deadline = Date.now() + CUT_WITHIN_MS;
  while (!refused.includes("the client does not read its replies") && Date.now() < deadline) await Bun.sleep(20);
  expect(refused).toEqual(["the client does not read its replies"]);
  // The client still holds its end open and unread; what the server kept for it must be gone all the same (80 MiB
  // of replies were made for it).
  await Bun.sleep(50);
  Bun.gc(true);
  expect(process.memoryUsage().external - before).toBeLessThan(HELD_AFTER_CUT_BYTES_MAX);
}, TEST_TIMEOUT_MS);

/** A server whose every command answers OK, and what it refused; `readTimeoutMs` shortens the command deadline. */
function okServer(readTimeoutMs?: number) {
  const commands = { needsAuth: false, run: async () => reply.ok } as unknown as RespCommands;
  const refused: string[] = [];
  const server = serveResp({ hostname: "127.0.0.1", port: 0, commands, valueBytesMax: VALUE_BYTES, onRefused: (reason) => refused.push(reason), commandReadTimeoutMs: readTimeoutMs });
  cleanups.push(() => server.stop(true));
  return { server, refused };
}

/** Connects, writes `frame`, and resolves with everything read once the server closes (or the test's bound passes). */
async function sendAndReadUntilClosed(port: number, frame: string | Uint8Array): Promise<string> {
  const client: Socket = connect({ host: "127.0.0.1", port });
  cleanups.push(() => client.destroy());
  await once(client, "connect");
  let read = "";
  client.on("data", (data: Buffer) => (read += data.toString()));
  // A server that closes while this client still writes resets the connection: the close is what is awaited.
  client.on("error", () => undefined);
  // A reset rejects `once` with the error: the connection is over either way.
  const closed = once(client, "close").catch(() => undefined);
  client.write(frame);
  await Promise.race([closed, Bun.sleep(CUT_WITHIN_MS)]);
  return read;
}

test("a command left half-sent is refused with a protocol error and its connection closed once the read deadline passes", async () => {
  const { server, refused } = okServer(200);
  const answer = await sendAndReadUntilClosed(server.port, "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$5\r\nab");
  expect(answer).toStartWith("+OK\r\n-ERR Protocol error: a command was not whole within 200 ms");
  expect(refused).toEqual(["a command arrived too slowly"]);
}, TEST_TIMEOUT_MS);

test("a pipeline past RESP_QUEUED_BYTES_MAX of waiting arguments is refused and its connection closed", async () => {
  // Each command waits: the first never answers, so everything behind it stays queued.
  const commands = { needsAuth: false, run: () => new Promise(() => {}) } as unknown as RespCommands;
  const refused: string[] = [];
  const server = serveResp({ hostname: "127.0.0.1", port: 0, commands, valueBytesMax: VALUE_BYTES, onRefused: (reason) => refused.push(reason) });
  cleanups.push(() => server.stop(true));
  const value = "x".repeat(VALUE_BYTES);
  const sets = Math.ceil(RESP_QUEUED_BYTES_MAX / VALUE_BYTES) + 2;
  await sendAndReadUntilClosed(server.port, `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${value.length}\r\n${value}\r\n`.repeat(sets));
  expect(refused).toEqual(["too many bytes of pipelined commands"]);
}, TEST_TIMEOUT_MS);
