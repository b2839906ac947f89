// Cross-origin access: the public API answers pages of the cluster's members (the dashboard on another node) and of
// CORS_ORIGINS; every other page is refused, and internal routes never answer a page.
import { describe, expect, test } from "bun:test";
import { CORS_METHODS, isPublicRoute } from "../../src/http/cors.ts";
import { BASE, buildTestApp, NODE_URL, type TestAppOptions } from "../support/app.ts";

/** Another member of the test node's cluster: its dashboard calls this node. */
const ORIGIN = "http://127.0.0.1:7002";
const WITH_MEMBER: TestAppOptions = { ringNodes: [NODE_URL, ORIGIN] };

function preflight(path: string, method: string, options: TestAppOptions = WITH_MEMBER, origin = ORIGIN) {
  const { app } = buildTestApp(options);
  return app.handle(
    new Request(`${BASE}${path}`, { method: "OPTIONS", headers: { origin, "access-control-request-method": method, "access-control-request-headers": "content-type" } }),
  );
}

const PUBLIC: readonly [string, string][] = [
  ["POST", "/api/v1/set"],
  ["GET", "/api/v1/get/user%3A1"],
  ["DELETE", "/api/v1/del/a%2Fb"],
  ["GET", "/api/v1/keys"],
  ["GET", "/api/v1/replicas/k"],
  ["GET", "/api/v1/cluster/state"],
  ["GET", "/api/v1/cluster/ring"],
  ["GET", "/api/v1/cluster/gossip"],
  ["GET", "/api/v1/health"],
];

const INTERNAL: readonly [string, string][] = [
  ["POST", "/api/v1/set/direct"],
  ["GET", "/api/v1/direct/get/k"],
  ["DELETE", "/api/v1/direct/del/k"],
  ["POST", "/api/v1/replica/put"],
  ["GET", "/api/v1/replica/get/k"],
  ["POST", "/api/v1/replica/digests"],
  ["POST", "/gossip"],
  ["POST", "/api/v1/admin/leave"],
  ["GET", "/swagger/json"],
  ["GET", "/dashboard"],
];

describe("a preflight", () => {
  test.each(PUBLIC)("for %s %s is allowed, without credentials", async (method, path) => {
    const response = await preflight(path, method);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(response.headers.get("vary")).toBe("origin");
    expect(response.headers.get("access-control-allow-methods")).toBe(CORS_METHODS);
    expect(response.headers.get("access-control-allow-headers")).toBe("content-type");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test.each(INTERNAL)("for %s %s gets no CORS headers", async (method, path) => {
    const response = await preflight(path, method);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("access-control-allow-methods")).toBeNull();
  });

  test.each([
    ["PUT", "/api/v1/set"],
    ["PATCH", "/api/v1/get/k"],
    ["GET", "/api/v1/del/k"],
    ["DELETE", "/api/v1/keys"],
  ])("for %s %s, a method the route does not have, gets no CORS headers", async (method, path) => {
    expect((await preflight(path, method)).headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("a cross-origin request", () => {
  test("to a public route is answered with Access-Control-Allow-Origin, errors included", async () => {
    const { client } = buildTestApp(WITH_MEMBER);
    const headers = { origin: ORIGIN };
    const set = await client.handle(new Request(`${BASE}/api/v1/set`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: '{"key":"k","value":"v"}' }));
    // The other member does not run in-process, so the write finds no quorum: an error answer that still carries the header.
    expect(set.status).toBe(503);
    expect(set.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const health = await client.handle(new Request(`${BASE}/api/v1/health`, { headers }));
    expect(health.status).toBe(200);
    expect(health.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const bad = await client.handle(new Request(`${BASE}/api/v1/keys?page=0`, { headers }));
    expect(bad.status).toBe(400);
    expect(bad.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });

  test("from a page on no member's origin is refused with 403 before anything is stored", async () => {
    const { client, store } = buildTestApp(WITH_MEMBER);
    // text/plain: the form of a POST a browser sends with no preflight at all.
    const set = await client.handle(
      new Request(`${BASE}/api/v1/set`, { method: "POST", headers: { origin: "http://evil.example", "content-type": "text/plain" }, body: '{"key":"k","value":"v"}' }),
    );
    expect(set.status).toBe(403);
    expect(((await set.json()) as { code: string }).code).toBe("forbidden");
    expect(set.headers.get("access-control-allow-origin")).toBeNull();
    expect(await store.get("k")).toBeUndefined();
    const read = await client.handle(new Request(`${BASE}/api/v1/keys`, { headers: { origin: "http://evil.example" } }));
    expect(read.status).toBe(403);
    expect((await preflight("/api/v1/keys", "GET", WITH_MEMBER, "http://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
  });

  test("from a loopback alias of a member (localhost for 127.0.0.1, same port) is allowed", async () => {
    const { client } = buildTestApp(WITH_MEMBER);
    const response = await client.handle(new Request(`${BASE}/api/v1/health`, { headers: { origin: "http://localhost:7002" } }));
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("http://localhost:7002");
  });

  test("from an origin listed in CORS_ORIGINS is allowed, and * allows any origin", async () => {
    const listed = buildTestApp({ trust: { allowedHosts: [], corsOrigins: ["https://app.example.com"] } });
    const response = await listed.client.handle(new Request(`${BASE}/api/v1/health`, { headers: { origin: "https://app.example.com" } }));
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    const any = buildTestApp({ trust: { allowedHosts: [], corsOrigins: ["*"] } });
    const anyResponse = await any.client.handle(new Request(`${BASE}/api/v1/health`, { headers: { origin: "http://elsewhere.example" } }));
    expect(anyResponse.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("from the node's own origin (its dashboard, Swagger UI) goes on without CORS headers", async () => {
    const { client } = buildTestApp();
    const response = await client.handle(new Request(`${BASE}/api/v1/set`, { method: "POST", headers: { origin: BASE, "content-type": "application/json" }, body: '{"key":"k","value":"v"}' }));
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  test.each(INTERNAL)("to %s %s is answered without CORS headers", async (method, path) => {
    const { client } = buildTestApp(WITH_MEMBER);
    const response = await client.handle(new Request(`${BASE}${path}`, { method, headers: { origin: ORIGIN } }));
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("without an Origin header (a peer, curl) gets no CORS headers", async () => {
    const { client } = buildTestApp();
    expect((await client.get("k")).headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("the public routes", () => {
  test.each([
    ["GET", "/api/v1/get/a/b", false],
    ["POST", "/api/v1/set/", false],
    ["GET", "/api/v1/keysx", false],
    ["GET", "/api/v1/cluster/secret", false],
    ["GET", "/api/v1/cluster/state", true],
    ["GET", "/api/v1/scan", true],
    ["GET", "/metrics", true],
    ["GET", "/metricsx", false],
    ["POST", "/api/v1/mget", true],
    ["POST", "/api/v1/mset", true],
    ["POST", "/api/v1/admin/restore", false],
  ] as const)("%s %s is public: %p", (method, path, expected) => {
    expect(isPublicRoute(method, path)).toBe(expected);
  });
});
