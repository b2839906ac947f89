// A body that stops arriving half-way (slowloris) is answered 408 within the node's deadline and its connection closed.
import { expect, test } from "bun:test";
import { fetchNode } from "../support/cluster.ts";
import { startNode } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";
import { expectStillServes } from "./serving.ts";

/** Above the node's 10 s body deadline with room for a loaded machine; a node that never answers fails here. */
const ANSWER_WITHIN_MS = 20_000;
const TEST_TIMEOUT_MS = 45_000;

interface StalledAnswer {
  /** Everything the node sent before it closed the connection, or before the bound. */
  readonly text: string;
  /** Whether the node closed the connection itself: this side never closes it before the bound. */
  readonly closedByNode: boolean;
}

/** Sends the request head and the first part of its body, then nothing more, and waits for the node. */
async function sendAndStall(port: number, head: string, bodyStart: string): Promise<StalledAnswer> {
  let text = "";
  const closed = Promise.withResolvers<boolean>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_socket, data) => void (text += Buffer.from(data).toString("utf8")),
      close: () => closed.resolve(true),
      error: () => closed.resolve(true),
    },
  });
  socket.write(`${head}\r\n\r\n${bodyStart}`);
  const timer = setTimeout(() => closed.resolve(false), ANSWER_WITHIN_MS);
  const closedByNode = await closed.promise;
  clearTimeout(timer);
  socket.end();
  return { text, closedByNode };
}

function expectRequestTimeout(answer: StalledAnswer): void {
  expect(answer.closedByNode).toBe(true);
  const [head = "", body = ""] = answer.text.split("\r\n\r\n");
  expect(head).toStartWith("HTTP/1.1 408");
  expect(head.toLowerCase()).toContain("connection: close");
  expect(JSON.parse(body)).toMatchObject({ code: "request_timeout", error: expect.any(String) });
}

test(
  "a body that stalls after 26 of 100 declared bytes, or mid-chunk, gets 408 JSON, its connection closes, and nothing is stored",
  async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory" });
    const host = `Host: 127.0.0.1:${node.port}`;
    const [declared, chunked] = await Promise.all([
      sendAndStall(node.port, `POST /api/v1/set HTTP/1.1\r\n${host}\r\nContent-Type: application/json\r\nContent-Length: 100`, '{"key":"stalled","value":"'),
      sendAndStall(node.port, `POST /api/v1/set HTTP/1.1\r\n${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked`, '1a\r\n{"key":"stalled","value":"\r\n'),
    ]);
    expectRequestTimeout(declared);
    expectRequestTimeout(chunked);
    expect((await fetchNode(`${node.url}/api/v1/get/stalled`)).status).toBe(404);
    await expectStillServes(node.url);
  },
  TEST_TIMEOUT_MS,
);
