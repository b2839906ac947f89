// The member URL rule, one for gossip, the replica routes' peer field and the NODE_URL/NODE_PEERS parser.
import { describe, expect, test } from "bun:test";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { nodeUrl } from "../../src/config/values.ts";
import { isNodeUrl, NODE_URL_CHARS_MAX } from "../../src/net/node-url.ts";
import { nodeUrlSchema, synSchema } from "../../src/membership/schema.ts";

const schemaCheck = TypeCompiler.Compile(nodeUrlSchema);
const synCheck = TypeCompiler.Compile(synSchema);

const ACCEPTED = [
  "http://127.0.0.1:8484",
  "https://127.0.0.1:1",
  "http://127.0.0.1:65535",
  "http://localhost:7001",
  "http://node1.example:8484",
  "https://db.example.com",
  "http://a-b.c-d.example:443",
  "http://[::1]:8484",
];

const REFUSED: [string, string][] = [
  ["credentials", "http://user:pass@127.0.0.1:8484"],
  ["a user alone", "http://user@127.0.0.1:8484"],
  ["port 0", "http://127.0.0.1:0"],
  ["port 99999", "http://127.0.0.1:99999"],
  ["port 65536", "http://127.0.0.1:65536"],
  ["a port with a leading zero", "http://127.0.0.1:08484"],
  ["the scheme's default port, which is not its own origin", "http://127.0.0.1:80"],
  ["a wildcard host", "http://*:8484"],
  ["a wildcard label", "http://*.example.com"],
  ["a semicolon", "http://127.0.0.1:8484;script-src"],
  ["a semicolon in the host", "http://a;b:8484"],
  ["a space", "http://127.0.0.1 :8484"],
  ["a path", "http://127.0.0.1:8484/api"],
  ["a trailing slash", "http://127.0.0.1:8484/"],
  ["a query", "http://127.0.0.1:8484?x=1"],
  ["a fragment", "http://127.0.0.1:8484#x"],
  ["upper case", "http://LOCALHOST:8484"],
  ["a percent escape", "http://local%68ost:8484"],
  ["an underscore", "http://my_host:8484"],
  ["a label starting with a dash", "http://-host:8484"],
  ["an empty label", "http://a..b:8484"],
  ["a trailing dot", "http://localhost.:8484"],
  ["a hex IPv4 spelling", "http://0x7f.1:8484"],
  ["a short IPv4 spelling", "http://127.1:8484"],
  ["leading zeros in an IPv4 address", "http://127.000.000.001:8484"],
  ["an IPv4 octet over 255", "http://256.0.0.1:8484"],
  ["a non-canonical IPv6 spelling", "http://[0:0::1]:8484"],
  ["an IPv6 zone", "http://[fe80::1%25eth0]:8484"],
  ["another scheme", "ftp://127.0.0.1:21"],
  ["a javascript URL", "javascript:alert(1)"],
  ["no host", "http://:8484"],
  ["too many characters", `http://${"a".repeat(NODE_URL_CHARS_MAX)}.example:1`],
];

describe("member URLs", () => {
  test.each(ACCEPTED)("%s is a member URL everywhere: gossip, the replica routes and the config", (url) => {
    expect(isNodeUrl(url)).toBe(true);
    expect(schemaCheck.Check(url)).toBe(true);
    expect(nodeUrl(url)).toEqual({ ok: true, value: url });
  });

  test.each(REFUSED)("a URL with %s is refused by gossip and the replica routes: %s", (_name, url) => {
    expect(isNodeUrl(url)).toBe(false);
    expect(schemaCheck.Check(url)).toBe(false);
    expect(synCheck.Check({ type: "syn", from: "http://127.0.0.1:1", digests: [{ nodeUrl: url, generation: 1, heartbeat: 1 }] })).toBe(false);
  });

  test.each(REFUSED)("the config never yields, from a URL with %s, one that peers would refuse: %s", (_name, url) => {
    const parsed = nodeUrl(url);
    if (parsed.ok) expect(isNodeUrl(parsed.value)).toBe(true);
  });

  test.each([
    ["upper case", "HTTP://LocalHost:8484", "http://localhost:8484"],
    ["a trailing slash", "http://127.0.0.1:8484/", "http://127.0.0.1:8484"],
    ["the default port", "http://127.0.0.1:80", "http://127.0.0.1"],
  ])("the config takes a URL written with %s as its canonical origin", (_name, raw, canonical) => {
    expect(nodeUrl(raw)).toEqual({ ok: true, value: canonical });
  });

  test.each([
    ["credentials", "http://user:pass@127.0.0.1:8484"],
    ["port 0", "http://127.0.0.1:0"],
    ["a wildcard host", "http://*:8484"],
    ["an underscore", "http://my_host:8484"],
  ])("the config refuses a node URL with %s, as peers would", (_name, raw) => {
    expect(nodeUrl(raw).ok).toBe(false);
  });
});
