// A CLUSTER_SECRET that cannot travel in an HTTP header (non-ASCII) was accepted at start, and then every internal
// request failed, so the cluster silently never formed. Now the node stops at start with exit 2 naming the setting,
// without repeating the secret; a secret with spaces inside still travels and works.
import { expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode } from "../support/cluster.ts";
import { runNodeToExit, startNode } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";

/** Exit code of a node refusing a setting at start (SPEC §3). */
const EXIT_BAD_CONFIG = 2;

test(
  "a non-ASCII CLUSTER_SECRET stops the node at start with exit 2 and one line naming the setting, never the secret",
  async () => {
    await using dir = await tempDir();
    const exit = await runNodeToExit({ dataDir: dir.path, backend: "memory", env: { CLUSTER_SECRET: "clé-secrète" } });
    expect(exit.exitCode).toBe(EXIT_BAD_CONFIG);
    const lines = exit.stderr.split("\n").filter((line) => line.trim() !== "");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("CLUSTER_SECRET");
    expect(lines[0]).toContain("printable ASCII");
    expect(exit.stderr + exit.stdout).not.toContain("clé-secrète");
  },
  CLUSTER_TEST_TIMEOUT_MS,
);

test(
  "a printable ASCII secret with spaces inside is taken and guards the internal routes",
  async () => {
    await using dir = await tempDir();
    const secret = "correct horse battery staple";
    await using node = await startNode({ dataDir: dir.path, backend: "memory", env: { CLUSTER_SECRET: secret } });
    const put = (headers: Record<string, string>) =>
      fetchNode(`${node.url}/api/v1/set/direct`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ key: "k", value: "v" }) });
    expect((await put({})).status).toBe(401);
    expect((await put({ "x-limedb-secret": secret })).status).toBe(200);
  },
  CLUSTER_TEST_TIMEOUT_MS,
);
