// Durable file names from NODE_URL: safe path segments, one file per node, never shared by look-alikes.
import { describe, expect, test } from "bun:test";
import { basename, dirname, join } from "node:path";
import { STORE_BACKENDS } from "../../src/config/settings.ts";
import { fileStem } from "../../src/store/file-name.ts";
import { storePath } from "../../src/store/open-backend.ts";

const DATA_DIR = "/var/lib/limedb";

const URLS = [
  "http://localhost:8484",
  "https://node1.example.com:443",
  "http://127.0.0.5:7001",
  "http://[::1]:8484",
  "http://[::1%25lo]:8484",
  "http://user:pass@127.0.0.1:1",
  "http://..:1",
  "http://127.0.0.1/../../etc/passwd",
  "C:\\Windows\\system32",
  `http://${"a".repeat(300)}.example.com:8484`,
];

describe("fileStem", () => {
  test.each(URLS)("the name for %s has no / \\ or : and is not hidden", (url) => {
    const stem = fileStem(url);
    expect(stem).not.toMatch(/[/\\:]/);
    expect(stem.startsWith(".")).toBe(false);
    expect(stem.length).toBeGreaterThan(10);
    expect(stem.length).toBeLessThanOrEqual(100);
  });

  test("the name stays readable: host and port come first", () => {
    expect(fileStem("http://localhost:8484")).toStartWith("localhost-8484-");
  });

  test("the same URL always gives the same name", () => {
    expect(fileStem("http://localhost:7001")).toBe(fileStem("http://localhost:7001"));
  });

  test("two ports on one host give two names", () => {
    expect(fileStem("http://localhost:7001")).not.toBe(fileStem("http://localhost:7002"));
  });

  test.each([
    ["http://127.0.0.1-2:1", "http://127.0.0.1:2-1"],
    ["http://a.b.invalid:1", "http://a-b.invalid:1"],
    ["http://127.0.0.1:1", "https://127.0.0.1:1"],
    ["http://LocalHost:1", "http://localhost:1"],
    ["http://127.0.0.1:1", "http://127.0.0.1:1/"],
    ["http://node_1.invalid:80", "http://node-1.invalid:80"],
    [`http://${"x".repeat(100)}a.invalid:1`, `http://${"x".repeat(100)}b.invalid:1`],
  ])("look-alike URLs %s and %s give distinct names", (a, b) => {
    expect(fileStem(a)).not.toBe(fileStem(b));
  });
});

describe("storePath", () => {
  test("the memory backend has no file", () => {
    expect(storePath({ kind: "memory", dataDir: DATA_DIR, nodeUrl: "http://localhost:8484" })).toBeUndefined();
  });

  test.each([
    ["fs", ".json"],
    ["sqlite", ".sqlite"],
  ] as const)("the %s file lies directly in the data folder with the %s extension", (kind, extension) => {
    const path = storePath({ kind, dataDir: DATA_DIR, nodeUrl: "http://localhost:8484" });
    expect(path).toBe(join(DATA_DIR, `${fileStem("http://localhost:8484")}${extension}`));
  });

  test.each(STORE_BACKENDS.filter((kind) => kind !== "memory"))("%s files of nodes on two ports differ and contain nothing of the URL's / or :", (kind) => {
    const a = storePath({ kind, dataDir: DATA_DIR, nodeUrl: "http://localhost:7001" });
    const b = storePath({ kind, dataDir: DATA_DIR, nodeUrl: "http://localhost:7002" });
    expect(a).not.toBe(b);
    for (const path of [a ?? "", b ?? ""]) {
      // The URL's "/" would otherwise show up as extra folders between the data folder and the file.
      expect(dirname(path)).toBe(DATA_DIR);
      expect(basename(path)).not.toContain(":");
    }
  });
});
