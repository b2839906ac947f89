// Requests with methods no route takes: answered 405 JSON with Allow (404 on unknown paths), and the node keeps serving.
// A method Bun's HTTP parser does not know (FOO) never reaches LimeDB: Bun closes the connection before any
// handler runs and offers no hook for it (oven-sh/bun#6556). Answering it would mean leaving Bun.serve.
import { expect, test } from "bun:test";
import { startNode } from "../support/node-process.ts";
import { parseAnswer, rawExchange } from "../support/raw-http.ts";
import { tempDir } from "../support/temp-dir.ts";
import { expectStillServes } from "./serving.ts";

const TEST_TIMEOUT_MS = 30_000;

function exchange(port: number, method: string, path: string): Promise<string> {
  return rawExchange(port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
}

function parse(text: string): { status: number; allow: string | undefined; body: unknown } {
  const answer = parseAnswer(text);
  return { status: answer.status, allow: answer.headers.get("allow"), body: JSON.parse(answer.body) };
}

test(
  "methods no route takes (PROPFIND, PATCH, TRACE, LOCK, MKCOL) get 405 JSON with Allow on known paths and 404 JSON elsewhere",
  async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory" });
    for (const method of ["PROPFIND", "PATCH", "TRACE", "LOCK", "MKCOL"]) {
      expect(parse(await exchange(node.port, method, "/api/v1/get/k"))).toEqual({ status: 405, allow: "GET", body: { code: "method_not_allowed", error: expect.any(String) } });
      expect(parse(await exchange(node.port, method, "/api/v1/set"))).toMatchObject({ status: 405, allow: "POST", body: { code: "method_not_allowed" } });
      expect(parse(await exchange(node.port, method, "/nowhere"))).toMatchObject({ status: 404, body: { code: "route_not_found" } });
    }
    await expectStillServes(node.url);
  },
  TEST_TIMEOUT_MS,
);

test(
  "a method Bun does not know (FOO) costs the sender its connection and leaves the node serving",
  async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory" });
    for (const method of ["FOO", "get"]) expect(await exchange(node.port, method, "/api/v1/get/k")).toBe("");
    await expectStillServes(node.url);
  },
  TEST_TIMEOUT_MS,
);
