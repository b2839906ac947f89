// The hot GET and SET skip the framework (src/http/kv/fast-get.ts, fast-set.ts) and must answer exactly as the app
// does. Two real nodes take the same requests: one as it runs by default, one at LOG_LEVEL=debug, where every
// request goes through the app's hooks. Their answers (status, type, body) and what they then hold must agree.
import { describe, expect, test } from "bun:test";
import { startNode, type NodeProcess } from "../support/node-process.ts";
import { rawRequest } from "../support/raw-http.ts";
import { tempDir } from "../support/temp-dir.ts";

const REQUEST_TIMEOUT_MS = 10_000;
/** Over the node's ~6 MiB body limit at the default 1 MiB value limit. */
const HUGE_BODY_BYTES = 8 * 1024 * 1024;
/** Over the 1 MiB value limit, under the body limit. */
const LONG_VALUE = "v".repeat(1024 * 1024 + 1);

interface Sent {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array<ArrayBuffer>;
}

const set = (name: string, body: Sent["body"], headers?: Record<string, string>, path = "/api/v1/set"): Sent => ({ name, method: "POST", path, body, headers });
const get = (name: string, path: string, headers?: Record<string, string>): Sent => ({ name, method: "GET", path, headers });

const REQUESTS: readonly Sent[] = [
  set("a plain set", JSON.stringify({ key: "plain", value: "v1" })),
  set("a set with a TTL", JSON.stringify({ key: "expiring", value: "v", ttlMs: 60_000 })),
  set("fields in another order", '{"value":"v2","key":"plain"}'),
  set("a value that is not a string", JSON.stringify({ key: "k", value: 1 })),
  set("an empty key", JSON.stringify({ key: "", value: "v" })),
  set("a key that is not a string", JSON.stringify({ key: 7, value: "v" })),
  set("an extra field", JSON.stringify({ key: "extra", value: "v", note: [1, { deep: true }] })),
  set("a __proto__ field", '{"key":"proto","value":"v","__proto__":{"x":1}}'),
  set("a fractional TTL", JSON.stringify({ key: "k", value: "v", ttlMs: 1.5 })),
  set("a TTL of zero", JSON.stringify({ key: "k", value: "v", ttlMs: 0 })),
  set("a TTL past the limit", JSON.stringify({ key: "k", value: "v", ttlMs: 1e15 })),
  set("a TTL as a string", JSON.stringify({ key: "k", value: "v", ttlMs: "5" })),
  set("a null TTL", JSON.stringify({ key: "k", value: "v", ttlMs: null })),
  set("not JSON", "key=k&value=v"),
  set("an empty body", ""),
  set("no body at all", undefined),
  set("an array", "[1,2]"),
  set("null", "null"),
  set("JSON nested past the depth limit", `{"key":"k","value":"v","x":${"[".repeat(40)}${"]".repeat(40)}}`),
  set("a key URLs cannot address", JSON.stringify({ key: ".", value: "v" })),
  set("a lone surrogate in the key", '{"key":"a\\ud800","value":"v"}'),
  set("bytes that are not UTF-8", new Uint8Array([...new TextEncoder().encode('{"key":"bad'), 0xff, ...new TextEncoder().encode('","value":"v"}')])),
  // Each byte decodes to U+FFFD, three bytes in UTF-8: re-encoded, this body would pass the limit.
  set("a large body of bytes that are not UTF-8", new Uint8Array(3 * 1024 * 1024).fill(0xff)),
  set("a value over VALUE_BYTES_MAX", JSON.stringify({ key: "long", value: LONG_VALUE })),
  set("a declared body over the limit", new Uint8Array(HUGE_BODY_BYTES).fill(0x20)),
  set("another Host", JSON.stringify({ key: "host", value: "v" }), { host: "elsewhere.example" }),
  set("a page's request (Origin)", JSON.stringify({ key: "page", value: "v" }), { origin: "http://127.0.0.1:1" }),
  set("a query string", JSON.stringify({ key: "query", value: "v" }), undefined, "/api/v1/set?x=1"),
  set("a trailing slash", JSON.stringify({ key: "slash", value: "v" }), undefined, "/api/v1/set/"),
  set("a content type of text", JSON.stringify({ key: "typed", value: "v" }), { "content-type": "text/plain" }),
  { name: "a PUT", method: "PUT", path: "/api/v1/set", body: JSON.stringify({ key: "put", value: "v" }) },
  get("a key that is there", "/api/v1/get/plain"),
  get("a key that is not", "/api/v1/get/absent"),
  get("an encoded key", "/api/v1/get/%70lain"),
  get("a key with a bad escape", "/api/v1/get/%ZZ"),
  get("an encoded dot", "/api/v1/get/%2E"),
  get("an empty key", "/api/v1/get/"),
  get("a key spanning segments", "/api/v1/get/a/b"),
  get("another Host", "/api/v1/get/plain", { host: "elsewhere.example" }),
  get("a page's request (Origin)", "/api/v1/get/plain", { origin: "http://127.0.0.1:1" }),
  get("a query string", "/api/v1/get/plain?x=1"),
  get("an encoded slash", "/api/v1/get/a%2Fb"),
  get("an encoded percent sign", "/api/v1/get/%25"),
  get("an escape that is not UTF-8", "/api/v1/get/%E0%A4"),
  get("an encoded U+FFFD", "/api/v1/get/%EF%BF%BD"),
  get("a trailing slash", "/api/v1/get/plain/"),
  { name: "a HEAD", method: "HEAD", path: "/api/v1/get/plain" },
  { name: "a DELETE of the read's path", method: "DELETE", path: "/api/v1/get/plain" },
];

interface Answer {
  readonly status: number;
  readonly type: string | null;
  readonly body: string;
}

async function send(node: NodeProcess, sent: Sent): Promise<Answer> {
  const response = await fetch(`${node.url}${sent.path}`, { method: sent.method, headers: sent.headers, body: sent.body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  // The answers name the node that gave them; only that may differ.
  return { status: response.status, type: response.headers.get("content-type"), body: (await response.text()).replaceAll(node.url, "NODE") };
}

/** The request counts by route, method and status from /metrics: the fast paths count as the routes do. */
async function requestCounts(node: NodeProcess): Promise<string[]> {
  const text = await (await fetch(`${node.url}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).text();
  return text.split("\n").filter((line) => line.startsWith("limedb_http_requests_total{") && /route="\/api\/v1\/(set|get\/:key)"/.test(line));
}

describe("the fast GET and SET", () => {
  test("answer every request as the app does, leave the same data behind and count the same requests", async () => {
    await using dir = await tempDir();
    const args = ["-store.backend", "memory"];
    await using fast = await startNode({ dataDir: `${dir.path}/fast`, args: [...args, "-log.level", "warn"] });
    await using app = await startNode({ dataDir: `${dir.path}/app`, args: [...args, "-log.level", "debug"] });
    for (const sent of REQUESTS) {
      const [viaFast, viaApp] = [await send(fast, sent), await send(app, sent)];
      expect({ sent: sent.name, ...viaFast }).toEqual({ sent: sent.name, ...viaApp });
    }
    // The writes the fast path took, and only those, are there.
    for (const key of ["plain", "expiring", "extra", "proto", "bad\ufffd", "query", "slash", "typed"]) {
      const path = `/api/v1/get/${encodeURIComponent(key)}`;
      expect({ key, ...(await send(fast, get(key, path))) }).toEqual({ key, ...(await send(app, get(key, path))) });
    }
    expect(await requestCounts(fast)).toEqual(await requestCounts(app));
  }, 60_000);

  test("read every raw spelling as the app does: a fragment that reached the server, dot segments, backslashes, raw bytes, odd Hosts", async () => {
    await using dir = await tempDir();
    // Any Host is allowed, so a short one reaches the routes rather than the Host check.
    const args = ["-store.backend", "memory", "-server.allowed-hosts", "*"];
    await using fast = await startNode({ dataDir: `${dir.path}/fast`, args: [...args, "-log.level", "warn"] });
    await using app = await startNode({ dataDir: `${dir.path}/app`, args: [...args, "-log.level", "debug"] });
    // Keys that some spelling below could be read as, so a wrong reading answers a value rather than a 404.
    for (const key of ["known", "known#x", "é", "Ã©", "a\\b", "a+b", "a b", ".", ".."]) {
      for (const node of [fast, app]) expect((await send(node, set(`the key ${key}`, JSON.stringify({ key, value: `v of ${key}` })))).status).toBeOneOf([200, 400]);
    }
    const port = (node: NodeProcess) => new URL(node.url).port;
    const sends: readonly [string, string, string | ((node: NodeProcess) => string), string?][] = [
      ["POST", "/api/v1/set#x", "127.0.0.1", JSON.stringify({ key: "fragment", value: "v" })],
      ["POST", "/api/v1/set", "a", JSON.stringify({ key: "short-host", value: "v" })],
      ["GET", "/api/v1/get/known#x", "127.0.0.1"],
      ["GET", "/api/v1/get/known", "a"],
      // Paths the router decodes itself while the app reads the URL Bun builds (dot segments, backslashes, raw bytes).
      ["GET", "/api/v1/get/%2e", "127.0.0.1"],
      ["GET", "/api/v1/get/%2E%2E", "127.0.0.1"],
      ["GET", "/api/v1/get/..", "127.0.0.1"],
      ["GET", "/api/v1/get/a\\b", "127.0.0.1"],
      ["GET", "/api/v1/get/x\\..\\known", "127.0.0.1"],
      ["GET", "/api/v1/get/é", "127.0.0.1"],
      ["GET", "/api/v1/get/%C3%A9", "127.0.0.1"],
      ["GET", "/api/v1/get/a+b", "127.0.0.1"],
      ["GET", "/api/v1/get/a%20b", "127.0.0.1"],
      ["GET", "http://elsewhere.example/api/v1/get/known", "127.0.0.1"],
      // Hosts the URL Bun builds holds otherwise: a path, a query, userinfo, a default port dropped.
      ["GET", "/api/v1/get/known", (node) => `127.0.0.1:${port(node)}/x`],
      ["GET", "/api/v1/get/known", (node) => `127.0.0.1:${port(node)}?x`],
      ["GET", "/api/v1/get/known", (node) => `u@127.0.0.1:${port(node)}`],
      ["GET", "/api/v1/get/known", "ab:80"],
      ["GET", "/api/v1/get/known", "abcd:80"],
      ["GET", "/api/v1/get/known", "ABCD"],
    ];
    // Every answer compared at once: a failure lists each spelling read otherwise.
    const fastAnswers: unknown[] = [];
    const appAnswers: unknown[] = [];
    for (const [method, path, hostOf, body] of sends) {
      const [viaFast, viaApp] = await Promise.all(
        [fast, app].map(async (node) => {
          const host = typeof hostOf === "string" ? hostOf : hostOf(node);
          const answer = await rawRequest(Number(port(node)), method, path, { host, "content-type": "application/json" }, body);
          return { sent: `${method} ${path} Host: ${host.replace(port(node), "PORT")}`, status: answer.status, type: answer.headers.get("content-type"), body: answer.body.replaceAll(node.url, "NODE") };
        }),
      );
      fastAnswers.push(viaFast);
      appAnswers.push(viaApp);
    }
    expect(fastAnswers).toEqual(appAnswers);
    for (const key of ["fragment", "short-host"]) {
      const path = `/api/v1/get/${key}`;
      expect({ key, ...(await send(fast, get(key, path))) }).toEqual({ key, ...(await send(app, get(key, path))) });
    }
    expect(await requestCounts(fast)).toEqual(await requestCounts(app));
  }, 60_000);
});
