// The Host check against DNS rebinding: the node's own name, loopback names and ALLOWED_HOSTS are served, nothing else.
import { describe, expect, test } from "bun:test";
import { hostPolicy } from "../../src/http/host-check.ts";
import { hostnameOf, splitRequestUrl } from "../../src/http/origins.ts";
import { buildTestApp } from "../support/app.ts";

describe("hostPolicy", () => {
  const allowed = hostPolicy({ nodeUrl: "http://node1.example:8484", allowedHosts: ["db.example.com", "[fd00::1]"] });
  test.each([
    ["node1.example:8484", true],
    ["NODE1.EXAMPLE:8484", true],
    ["node1.example", true],
    ["node1.example.:8484", true],
    ["localhost:8484", true],
    ["app.localhost", true],
    ["127.0.0.1:9999", true],
    ["127.12.0.3", true],
    ["[::1]:8484", true],
    ["db.example.com:443", true],
    ["[fd00::1]:8484", true],
    ["attacker.example:8484", false],
    ["node1.example.attacker.example", false],
    ["localhost.attacker.example", false],
    ["127.0.0.1.attacker.example", false],
    ["[::2]:8484", false],
    ["", false],
    // A name it answers to, then what no Host header holds: a path, a query, a fragment, userinfo, a backslash, a space.
    ["127.0.0.1:8484/x", false],
    ["localhost:8484/api/v1/get/k", false],
    ["localhost:8484?q=1", false],
    ["localhost#f", false],
    ["u@localhost:8484", false],
    ["localhost\\x:8484", false],
    ["node1.example :8484", false],
    ["[::1]/x", false],
  ])("Host %p is served: %p", (host, expected) => {
    expect(allowed(host)).toBe(expected);
  });

  test("ALLOWED_HOSTS=* serves any Host", () => {
    expect(hostPolicy({ nodeUrl: "http://node1.example:8484", allowedHosts: ["*"] })("anything.example")).toBe(true);
  });

  test.each([
    ["example.com:80", "example.com"],
    ["[::1]:80", "[::1]"],
    ["[::1]", "[::1]"],
    ["Example.COM.", "example.com"],
  ])("the host name of %p is %p", (host, name) => {
    expect(hostnameOf(host)).toBe(name);
  });
});

test("a request whose Host is not this node's is answered 403 JSON before any route runs", async () => {
  const { client, store } = buildTestApp();
  const response = await client.handle(
    new Request("http://localhost/api/v1/set", { method: "POST", headers: { host: "attacker.example", "content-type": "application/json" }, body: '{"key":"k","value":"v"}' }),
  );
  expect(response.status).toBe(403);
  expect(((await response.json()) as { code: string }).code).toBe("forbidden");
  expect(await store.get("k")).toBeUndefined();
});

test("a request whose Host carries more than a name and port is answered 403 JSON, even when the name is this node's", async () => {
  const { client, store } = buildTestApp();
  for (const host of ["localhost:8484/x", "localhost:8484?x", "u@localhost:8484"]) {
    const response = await client.handle(
      new Request("http://localhost/api/v1/set", { method: "POST", headers: { host, "content-type": "application/json" }, body: '{"key":"k","value":"v"}' }),
    );
    expect(response.status).toBe(403);
    expect(((await response.json()) as { code: string }).code).toBe("forbidden");
  }
  expect(await store.get("k")).toBeUndefined();
});

describe("splitRequestUrl", () => {
  test.each([
    ["http://127.0.0.1:7001/api/v1/get/a%2Fb?x=1", "http://127.0.0.1:7001", "/api/v1/get/a%2Fb"],
    ["http://localhost/", "http://localhost", "/"],
    ["http://[::1]:8484/api/v1/keys", "http://[::1]:8484", "/api/v1/keys"],
    ["http://127.0.0.2:8484/gossip?", "http://127.0.0.2:8484", "/gossip"],
  ])("%p is origin %p and path %p", (url, origin, pathname) => {
    expect(splitRequestUrl(url)).toEqual({ origin, pathname });
  });
});
