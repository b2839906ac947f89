// The page talks only to members: which URLs count as members, and how the serving node is reached.
import { describe, expect, test } from "bun:test";
import { normalizeUrl, resolveMember } from "../../src/dashboard/members.ts";
import { compactUrl } from "../../src/dashboard/format.ts";

const SERVING = "http://127.0.0.1:7001";
const membership = { nodeUrl: SERVING, members: [{ url: SERVING }, { url: "http://127.0.0.1:7002" }, { url: "https://127.0.0.3:8443/lime" }] };

describe("a node URL", () => {
  test.each([
    ["http://127.0.0.1:7001", "http://127.0.0.1:7001"],
    ["  http://127.0.0.1:7001/  ", "http://127.0.0.1:7001"],
    ["HTTP://LOCALHOST:8484", "http://localhost:8484"],
    ["https://127.0.0.3:8443/lime/", "https://127.0.0.3:8443/lime"],
    ["http://127.0.0.2:80", "http://127.0.0.2"],
  ])("%p is read as %p", (text, url) => {
    expect(normalizeUrl(text)).toBe(url);
  });

  test.each(["", "127.0.0.1:7001", "javascript:alert(1)", "file:///etc/passwd", "ftp://127.0.0.1", "http://user:pw@127.0.0.1:1", "http://127.0.0.1:1/?q=1", "http://127.0.0.1:1/#x", "not a url"])(
    "%p is not one",
    (text) => {
      expect(normalizeUrl(text)).toBeUndefined();
    },
  );
});

describe("choosing a node", () => {
  test("a member is reached at its own URL", () => {
    expect(resolveMember("http://127.0.0.1:7002/", membership)).toEqual({ ok: true, node: { url: "http://127.0.0.1:7002", base: "http://127.0.0.1:7002" } });
  });

  test("the serving node is reached through the page's own origin", () => {
    expect(resolveMember(SERVING, membership)).toEqual({ ok: true, node: { url: SERVING, base: "" } });
  });

  test("a member with a path keeps it", () => {
    expect(resolveMember("https://127.0.0.3:8443/lime/", membership)).toEqual({ ok: true, node: { url: "https://127.0.0.3:8443/lime", base: "https://127.0.0.3:8443/lime" } });
  });

  test.each(["http://127.0.0.1:7009", "http://evil.example", "https://127.0.0.1:7002", "http://127.0.0.1:7002/other"])("%p, not a member, is refused", (url) => {
    const resolved = resolveMember(url, membership);
    expect(resolved.ok).toBe(false);
    if (!resolved.ok) expect(resolved.reason).toContain("is not a member of this cluster");
  });

  test("text that is not an http(s) URL is refused as such", () => {
    const resolved = resolveMember("javascript:alert(1)", membership);
    expect(resolved).toEqual({ ok: false, reason: '"javascript:alert(1)" is not an http(s) node URL' });
  });
});

describe("compact member names", () => {
  test("members on one host are told apart by port", () => {
    const urls = ["http://127.0.0.1:7001", "http://127.0.0.1:7002"];
    expect(urls.map((url) => compactUrl(url, urls))).toEqual([":7001", ":7002"]);
  });

  test("members on several hosts keep host and port", () => {
    const urls = ["http://127.0.0.1:8484", "http://127.0.0.2:8484"];
    expect(urls.map((url) => compactUrl(url, urls))).toEqual(["127.0.0.1:8484", "127.0.0.2:8484"]);
  });
});
