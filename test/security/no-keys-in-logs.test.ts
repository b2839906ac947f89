// No key or value reaches a node's log, even when a response breaks its schema or the store file is corrupt.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fetchNode, waitUntil } from "../support/cluster.ts";
import { runNodeToExit, startNode } from "../support/node-process.ts";
import { storedRing } from "../../src/store/sqlite.ts";
import { ringPosition } from "../../src/store/segments.ts";
import { tempDir } from "../support/temp-dir.ts";
import { expectStillServes, setKey } from "./serving.ts";

const TEST_TIMEOUT_MS = 45_000;
const LOG_WAIT_MS = 5_000;
const SECRETS = { key: "secret-key-3vq8", value: "secret-value-3vq8", blobKey: "blob-key-3vq8" } as const;

function expectNoSecret(text: string): void {
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
}

/** The node's SQLite store file: named after its URL, beside the hints file. */
async function storeFile(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".sqlite") && !name.endsWith(".hints.sqlite"));
  expect(names).toHaveLength(1);
  return join(dir, names[0]!);
}

test(
  "a /keys answer that breaks its schema is a 500 whose log line names the route and field, not the keys and values",
  async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path });
    expect((await setKey(node.url, SECRETS.key, SECRETS.value)).status).toBe(200);
    // A value stored as a BLOB, as a damaged or hand-edited file may hold, reads back as bytes, not the string the schema wants.
    const db = new Database(await storeFile(dir.path));
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      db.query("INSERT INTO records (ring, key, value, version_wall_ms, version_counter, version_node, tombstone, expires_at_ms) VALUES ($ring, $key, $value, 1, 0, 'x', 0, NULL)").run({ $ring: storedRing(ringPosition(SECRETS.blobKey)), $key: SECRETS.blobKey, $value: new TextEncoder().encode(SECRETS.value) });
    } finally {
      db.close();
    }

    const response = await fetchNode(`${node.url}/api/v1/keys`);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ code: "internal" });
    const { value: stdout } = await waitUntil("the node logs the failure", async () => node.stdout, (text) => text.includes("request failed"), LOG_WAIT_MS);
    expect(stdout).toContain("/api/v1/keys");
    expectNoSecret(stdout);
    await expectStillServes(node.url);
    expectNoSecret(node.stdout + node.stderr);
  },
  TEST_TIMEOUT_MS,
);

test(
  "a corrupt record in the fs store file stops the node with a log line naming the file, not the record's key or value",
  async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "fs" });
    expect((await setKey(node.url, SECRETS.key, SECRETS.value)).status).toBe(200);
    expect(await node.stop()).toBe(0);
    const [name] = (await readdir(dir.path)).filter((file) => file.endsWith(".json"));
    const path = join(dir.path, name!);
    const doc = JSON.parse(await readFile(path, "utf8")) as { records: Record<string, { version: unknown[] }> };
    doc.records[SECRETS.key]!.version = [1, 0];
    await writeFile(path, JSON.stringify(doc));

    const exit = await runNodeToExit({ dataDir: dir.path, backend: "fs", port: node.port });
    expect(exit.exitCode).toBe(1);
    expect(exit.stdout).toContain("store failed to open");
    expect(exit.stdout).toContain(path);
    expectNoSecret(exit.stdout + exit.stderr);

    // Once the file is replaced (here by an empty store), the node starts and serves again.
    await writeFile(path, JSON.stringify({ format: "limedb-fs/1", records: {} }));
    await node.restart();
    await expectStillServes(node.url);
  },
  TEST_TIMEOUT_MS,
);
