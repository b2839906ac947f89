// Cross-origin access: the public API answers pages on other origins (the dashboard on another node); internal routes never do.
import { describe, expect, test } from "bun:test";
import { CORS_METHODS, isPublicRoute } from "../../src/http/cors.ts";
import { BASE, buildTestApp } from "../support/app.ts";

const ORIGIN = "http://127.0.0.1:7002";

function preflight(path: string, method: string) {
  const { app } = buildTestApp();
  return app.handle(
    new Request(`${BASE}${path}`, { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": method, "access-control-request-headers": "content-type" } }),
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
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
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
    const { client } = buildTestApp();
    const headers = { origin: ORIGIN };
    const set = await client.handle(new Request(`${BASE}/api/v1/set`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: '{"key":"k","value":"v"}' }));
    expect(set.status).toBe(200);
    expect(set.headers.get("access-control-allow-origin")).toBe("*");
    const missing = await client.handle(new Request(`${BASE}/api/v1/get/nope`, { headers }));
    expect(missing.status).toBe(404);
    expect(missing.headers.get("access-control-allow-origin")).toBe("*");
    const bad = await client.handle(new Request(`${BASE}/api/v1/keys?page=0`, { headers }));
    expect(bad.status).toBe(400);
    expect(bad.headers.get("access-control-allow-origin")).toBe("*");
  });

  test.each(INTERNAL)("to %s %s is answered without CORS headers", async (method, path) => {
    const { client } = buildTestApp();
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
  ] as const)("%s %s is public: %p", (method, path, expected) => {
    expect(isPublicRoute(method, path)).toBe(expected);
  });
});
