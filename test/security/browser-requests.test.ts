// A web page open in any browser on the machine must not drive a node's internal or admin routes: a text/plain
// POST needs no CORS preflight, so before this check one such request made a node leave its cluster and exit.
import { describe, expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from "../support/cluster.ts";
import { startNode, type NodeProcess } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";

const EVIL = "http://evil.example";
const RECORD = { key: "planted", value: "by a page", version: { wallMs: 1, counter: 0, node: "http://127.0.0.1:1" }, tombstone: false, expiresAtMs: null };

/** What a page can send without a preflight: text/plain, with the browser's own Origin and Sec-Fetch-Site. */
function pageRequest(node: NodeProcess, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${node.url}${path}`, {
    method,
    headers: { origin: EVIL, "sec-fetch-site": "cross-site", "content-type": "text/plain" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
}

async function expectForbidden(response: Response): Promise<void> {
  expect(response.status).toBe(403);
  expect(((await response.json()) as { code: string }).code).toBe("forbidden");
  expect(response.headers.get("access-control-allow-origin")).toBeNull();
}

async function expectServing(node: NodeProcess): Promise<void> {
  const set = await fetch(`${node.url}/api/v1/set`, { method: "POST", body: JSON.stringify({ key: "still", value: "here" }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  expect(set.status).toBe(200);
  const get = await fetch(`${node.url}/api/v1/get/still`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  expect(((await get.json()) as { value: string }).value).toBe("here");
  expect(node.process.exitCode).toBeNull();
  expect(node.stdout).not.toContain("node leaving");
}

describe("a web page", () => {
  test(
    "cannot make a node leave: POST /api/v1/admin/leave from a page is refused and the node keeps serving",
    async () => {
      await using dir = await tempDir();
      await using node = await startNode({ dataDir: dir.path, backend: "memory" });
      await expectForbidden(await pageRequest(node, "POST", "/api/v1/admin/leave"));
      await expectServing(node);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "cannot write, read or delete through the internal routes, nor gossip",
    async () => {
      await using dir = await tempDir();
      await using node = await startNode({ dataDir: dir.path, backend: "memory" });
      await expectForbidden(await pageRequest(node, "POST", "/api/v1/set/direct", { key: "planted", value: "by a page" }));
      await expectForbidden(await pageRequest(node, "POST", "/api/v1/replica/put", { records: [RECORD] }));
      await expectForbidden(await pageRequest(node, "POST", "/gossip", { type: "ack2", from: "http://127.0.0.1:1", entries: [] }));
      // A no-cors GET (an <img> or <script> tag) carries no Origin, but the browser still marks it cross-site.
      const read = await fetch(`${node.url}/api/v1/replica/get/still`, { headers: { "sec-fetch-site": "cross-site" }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await expectForbidden(read);
      await expectServing(node);
      await expectForbidden(await pageRequest(node, "DELETE", "/api/v1/direct/del/still"));
      const after = await fetch(`${node.url}/api/v1/get/still`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      expect(after.status).toBe(200);
      expect((await fetch(`${node.url}/api/v1/get/planted`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).status).toBe(404);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "cannot write blind to the public API from another origin (no preflight, text/plain)",
    async () => {
      await using dir = await tempDir();
      await using node = await startNode({ dataDir: dir.path, backend: "memory" });
      await expectForbidden(await pageRequest(node, "POST", "/api/v1/set", { key: "planted", value: "by a page" }));
      expect((await fetch(`${node.url}/api/v1/get/planted`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).status).toBe(404);
      await expectServing(node);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});

describe("a program on the machine (curl, a peer)", () => {
  test(
    "still drives the internal routes with a JSON body, and is told 415 for any other body",
    async () => {
      await using dir = await tempDir();
      await using node = await startNode({ dataDir: dir.path, backend: "memory" });
      const plain = await fetch(`${node.url}/api/v1/set/direct`, { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ key: "k", value: "v" }) });
      expect(plain.status).toBe(415);
      expect(((await plain.json()) as { code: string }).code).toBe("unsupported_media_type");
      const json = await fetch(`${node.url}/api/v1/set/direct`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: "k", value: "v" }) });
      expect(json.status).toBe(200);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
