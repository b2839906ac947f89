// A real node process over real sockets: the default sqlite store on disk, restarts, a corrupt fs file, oversized bodies.
import { describe, expect, test } from "bun:test";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { clientFor } from "../support/app.ts";
import { runNodeToExit, startNode } from "../support/node-process.ts";
import { streamOfSpaces } from "../support/huge-body.ts";
import { tempDir } from "../support/temp-dir.ts";

/** Over the roughly 6 MiB body limit of a node with the default 1 MiB value limit. */
const HUGE_BODY_BYTES = 12 * 1024 * 1024;
const CHUNK_BYTES = 256 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

function clientOf(url: string) {
  return clientFor((request) => fetch(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }), url);
}

/** Files a store left in the data dir, without SQLite's -wal and -shm companions. */
async function storeFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.endsWith("-wal") && !name.endsWith("-shm"));
}

describe("a node with the default store", () => {
  test("serves SET, GET, DEL and /keys over HTTP from a SQLite file named after its URL", async () => {
    await using dir = await tempDir();
    // STORE_BACKEND is blanked so the node's own default is what runs, whatever this shell exports.
    await using node = await startNode({ dataDir: dir.path, env: { STORE_BACKEND: "" } });
    const client = clientOf(node.url);

    const health = (await (await client.path("/api/v1/health")).json()) as { nodeUrl: string; storage: { type: string } };
    expect(health.nodeUrl).toBe(node.url);
    expect(health.storage.type).toBe("sqlite");

    expect(await (await client.set("greeting", "hello, world")).text()).toBe("OK");
    expect(await (await client.set("a/b?c#d e%f é😀", "awkward")).text()).toBe("OK");
    expect(await (await client.get("greeting")).json()).toEqual({ value: "hello, world", nodeUrl: node.url });
    expect(await (await client.get("a/b?c#d e%f é😀")).json()).toEqual({ value: "awkward", nodeUrl: node.url });
    expect(await (await client.keys()).json()).toEqual({
      keys: [
        { key: "a/b?c#d e%f é😀", value: "awkward", size: 7 },
        { key: "greeting", value: "hello, world", size: 12 },
      ],
      page: 1,
      pageSize: 20,
      total: 2,
      totalPages: 1,
      truncated: false,
      next: null,
    });
    expect(await (await client.del("greeting")).text()).toBe("1");
    expect(await (await client.del("greeting")).text()).toBe("0");
    expect((await client.get("greeting")).status).toBe(404);

    const files = await storeFiles(dir.path);
    expect(files).toHaveLength(1);
    const [file] = files;
    expect(file).toEndWith(".sqlite");
    expect(file).not.toMatch(/[:/\\]/);
    expect(file).toContain("127.0.0.1");
    expect(file).toContain(String(node.port));
  });

  test("keeps its data across a clean restart", async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path });
    const client = clientOf(node.url);
    const entries = Array.from({ length: 50 }, (_, i) => [`key-${i}`, `value-${i}-${"x".repeat(i)}`] as const);
    for (const [key, value] of entries) expect(await (await client.set(key, value)).text()).toBe("OK");
    await client.del("key-7");

    expect(await node.stop()).toBe(0);
    await node.restart();

    for (const [key, value] of entries) {
      const response = await client.get(key);
      if (key === "key-7") expect(response.status).toBe(404);
      else expect(await response.json()).toEqual({ value, nodeUrl: node.url });
    }
    expect(((await (await client.keys()).json()) as { total: number }).total).toBe(49);
  });

  test("two nodes on different ports in one data dir keep separate files", async () => {
    await using dir = await tempDir();
    await using first = await startNode({ dataDir: dir.path });
    await using second = await startNode({ dataDir: dir.path });
    await clientOf(first.url).set("k", "first");
    await clientOf(second.url).set("k", "second");
    expect(((await (await clientOf(first.url).get("k")).json()) as { value: string }).value).toBe("first");
    expect(((await (await clientOf(second.url).get("k")).json()) as { value: string }).value).toBe("second");
    expect((await storeFiles(dir.path)).filter((name) => name.endsWith(".sqlite"))).toHaveLength(2);
  });

  test("a second node on a port already in use exits non-zero instead of sharing the port", async () => {
    await using dir = await tempDir();
    await using other = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory" });
    const second = await runNodeToExit({ dataDir: other.path, backend: "memory", port: node.port });
    expect(second.exitCode).not.toBe(0);
    expect(second.stderr).toContain(String(node.port));
    // The first node still answers every request itself.
    for (let i = 0; i < 10; i++) expect(await (await clientOf(node.url).set(`k${i}`, "v")).text()).toBe("OK");
    expect(((await (await clientOf(node.url).keys()).json()) as { total: number }).total).toBe(10);
  });
});

describe("a node with a corrupt fs store", () => {
  test("refuses to start, names the file on stderr and leaves the file untouched", async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "fs" });
    expect(await (await clientOf(node.url).set("k", "v")).text()).toBe("OK");
    expect(await node.stop()).toBe(0);
    const [file] = await storeFiles(dir.path);
    expect(file).toEndWith(".json");
    const path = join(dir.path, file!);
    const corrupt = '{"format":"limedb-fs/1","records":{"k":{"value":"v","version":[1,0,"x"],"tomb';
    await writeFile(path, corrupt);

    const exit = await runNodeToExit({ dataDir: dir.path, backend: "fs", port: node.port });

    expect(exit.exitCode).not.toBe(0);
    expect(exit.exitCode).not.toBeNull();
    expect(exit.stderr).toContain(path);
    expect(exit.stderr).toContain("corrupt");
    expect(await readFile(path, "utf8")).toBe(corrupt);
    expect(await readdir(dir.path)).toEqual([file!]);
  });
});

describe("a node sent a body of many megabytes", () => {
  const bodies: [string, () => BodyInit][] = [
    ["with a Content-Length", () => "x".repeat(HUGE_BODY_BYTES)],
    ["streamed without a Content-Length", () => streamOfSpaces(HUGE_BODY_BYTES, CHUNK_BYTES).body],
  ];

  test.each(bodies)("answers JSON 413 to it %s and keeps serving", async (_name, body) => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory" });
    const response = await fetch(`${node.url}/api/v1/set`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toStrictEqual({ error: expect.any(String), code: "too_large" });
    const client = clientOf(node.url);
    expect(await (await client.set("after", "fine")).text()).toBe("OK");
    expect(((await (await client.keys()).json()) as { total: number }).total).toBe(1);
  });
});

