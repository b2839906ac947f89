// The dashboard route group: the page at /dashboard, its assets from the build's fixed list, and the build cache.
import { describe, expect, test } from "bun:test";
import { gunzipSync } from "bun";
import { type Bundle, cachedBundle } from "../../../src/http/dashboard/bundle.ts";
import { contentSecurityPolicy } from "../../../src/http/dashboard/page.ts";
import { memberOrigins } from "../../../src/http/origins.ts";
import { BASE, buildTestApp, NODE_URL } from "../../support/app.ts";

const OTHERS = ["http://127.0.0.1:7002", "http://127.0.0.3:8484"];

describe("the dashboard page", () => {
  // One app and one real build for the whole group: building takes a few hundred milliseconds.
  const { app } = buildTestApp({ ringNodes: [NODE_URL, ...OTHERS] });
  const get = (path: string, headers: Record<string, string> = {}) => app.handle(new Request(`${BASE}${path}`, { headers }));

  test("is served at /dashboard as HTML naming its script and stylesheet", async () => {
    const response = await get("/dashboard");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const html = await response.text();
    expect(html).toMatch(/<script type="module" src="\/dashboard\/assets\/main-[a-z0-9]+\.js"><\/script>/);
    expect(html).toMatch(/<link rel="stylesheet" href="\/dashboard\/assets\/main-[a-z0-9]+\.css">/);
    expect(html).not.toContain("https://");
  }, 30_000);

  test("may connect only to this node and the members it knows", async () => {
    const csp = (await get("/dashboard")).headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${[NODE_URL, ...OTHERS].sort().join(" ")};`);
  });

  test("serves its script and stylesheet, gzipped when the browser accepts it", async () => {
    const html = await (await get("/dashboard")).text();
    for (const [path, type] of [
      [/src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(html)?.[1], "text/javascript"],
      [/href="(\/dashboard\/assets\/[^"]+\.css)"/.exec(html)?.[1], "text/css"],
    ] as const) {
      if (path === undefined) throw new Error(`the page names no ${type} asset`);
      const plain = await get(path);
      expect(plain.status).toBe(200);
      expect(plain.headers.get("content-type")).toStartWith(type);
      expect(plain.headers.get("cache-control")).toContain("immutable");
      const body = new Uint8Array(await plain.arrayBuffer());
      const zipped = await get(path, { "accept-encoding": "gzip, deflate, br" });
      expect(zipped.headers.get("content-encoding")).toBe("gzip");
      const zippedBody = new Uint8Array(await zipped.arrayBuffer());
      expect(zippedBody.byteLength).toBeLessThan(body.byteLength);
      expect(gunzipSync(zippedBody)).toEqual(body);
    }
  });

  test("is bundled with Preact and Chart.js, with faker in a chunk of its own", async () => {
    const html = await (await get("/dashboard")).text();
    const script = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(html)?.[1] ?? "";
    const main = await (await get(script)).text();
    expect(main).not.toContain("@faker-js");
    expect(main).not.toMatch(/from\s*["']https?:/);
    const chunk = /"\.\/(chunk-[a-z0-9]+\.js)"/.exec(main)?.[1];
    expect(chunk).toBeDefined();
    expect((await get(`/dashboard/assets/${chunk}`)).status).toBe(200);
  });

  test.each([
    ["/dashboard/assets/nope.js", 404],
    ["/dashboard/assets/..%2F..%2Fpackage.json", 400],
    ["/dashboard/assets/main.tsx", 404],
    ["/dashboard/assets/styles.css", 404],
    [`/dashboard/assets/${"a".repeat(101)}.js`, 400],
  ])("answers %s, not an asset of the build, with %p and no file", async (path, status) => {
    const response = await get(path);
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toStartWith("application/json");
  });
});

describe("the build cache", () => {
  const fake: Bundle = { script: "main.js", style: undefined, assets: new Map() };

  test("builds once for any number of concurrent and later requests", async () => {
    let builds = 0;
    const bundle = cachedBundle(async () => {
      builds++;
      await Bun.sleep(5);
      return fake;
    });
    const results = await Promise.all([bundle(), bundle(), bundle()]);
    expect(await bundle()).toBe(fake);
    expect(results.every((b) => b === fake)).toBe(true);
    expect(builds).toBe(1);
  });

  test("tries again after a failed build", async () => {
    let builds = 0;
    const bundle = cachedBundle(async () => {
      builds++;
      if (builds === 1) throw new Error("syntax error");
      return fake;
    });
    await expect(bundle()).rejects.toThrow("syntax error");
    expect(await bundle()).toBe(fake);
    expect(builds).toBe(2);
  });
});

describe("member origins", () => {
  test("keep only http(s) origins, once each, sorted", () => {
    expect(memberOrigins(["http://127.0.0.2:1/x", "http://127.0.0.1:2", "http://127.0.0.2:1", "ftp://127.0.0.3", "not a url"])).toEqual(["http://127.0.0.1:2", "http://127.0.0.2:1"]);
  });

  test("with none known, the page may still reach its own node", () => {
    expect(contentSecurityPolicy([])).toContain("connect-src 'self';");
  });
});
