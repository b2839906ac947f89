// Forged versions: one replica/put of a record from the far future used to pin a node's hybrid clock there, so
// later SET/DEL failed for good (across restarts), a deleted key was still served, and the fs store wrote a file
// it then refused to open. Versions beyond now + MAX_CLOCK_SKEW_MS are refused now, counted, logged, never observed.
import { describe, expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode } from "../support/cluster.ts";
import { startNode, type NodeProcess } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
const FORGER = "http://127.0.0.1:1";

function forged(key: string, wallMs: number, counter: number, tombstone = false) {
  return { key, value: tombstone ? "" : "forged", version: { wallMs, counter, node: FORGER }, tombstone, expiresAtMs: null };
}

async function putReplica(node: NodeProcess, record: ReturnType<typeof forged>): Promise<Response> {
  return fetchNode(`${node.url}/api/v1/replica/put`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ records: [record] }) });
}

async function set(node: NodeProcess, key: string, value: string): Promise<number> {
  return (await fetchNode(`${node.url}/api/v1/set`, { method: "POST", body: JSON.stringify({ key, value }) })).status;
}

async function versionOf(node: NodeProcess, key: string): Promise<{ wallMs: number; counter: number }> {
  const body = (await (await fetchNode(`${node.url}/api/v1/replicas/${encodeURIComponent(key)}`)).json()) as { replicas: { version: { wallMs: number; counter: number } }[] };
  return body.replicas[0]!.version;
}

describe.each(["fs", "sqlite"] as const)("on the %s store", (backend) => {
  test(
    "a record from the far future is refused with 400 and the key keeps taking writes and deletes, across a restart",
    async () => {
      await using dir = await tempDir();
      await using node = await startNode({ dataDir: dir.path, backend });
      expect(await set(node, "k", "before")).toBe(200);
      const attacks = [forged("k", Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), forged("k", Number.MAX_SAFE_INTEGER, 0), forged("k", Date.now() + TEN_YEARS_MS, 0), forged("gone", Date.now() + TEN_YEARS_MS, 0)];
      for (const attack of attacks) {
        const response = await putReplica(node, attack);
        expect(response.status).toBe(400);
        expect(["clock_skew", "bad_request"]).toContain(((await response.json()) as { code: string }).code);
      }
      expect(await set(node, "k", "after")).toBe(200);
      expect((await versionOf(node, "k")).wallMs).toBeLessThanOrEqual(Date.now() + 1000);
      expect(((await (await fetchNode(`${node.url}/api/v1/get/k`)).json()) as { value: string }).value).toBe("after");
      expect(await set(node, "gone", "x")).toBe(200);
      expect(await (await fetchNode(`${node.url}/api/v1/del/gone`, { method: "DELETE" })).text()).toBe("1");
      expect((await fetchNode(`${node.url}/api/v1/get/gone`)).status).toBe(404);

      const metrics = await (await fetchNode(`${node.url}/metrics`)).text();
      const refused = Number(/limedb_clock_refused_total\{kind="version"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      expect(refused).toBeGreaterThanOrEqual(3);
      // Logged, but at most once a minute however many arrive.
      expect(node.stdout.split("\n").filter((line) => line.includes("refused a wall time from the future"))).toHaveLength(1);

      await node.restart();
      expect(await set(node, "k", "after restart")).toBe(200);
      expect(((await (await fetchNode(`${node.url}/api/v1/get/k`)).json()) as { value: string }).value).toBe("after restart");
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});

test(
  "a version within the skew bound is still taken: a replica a little ahead is not a forger",
  async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory" });
    const response = await putReplica(node, forged("near", Date.now() + 100, 0));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { outcomes: { applied: boolean }[] }).outcomes[0]!.applied).toBe(true);
    expect(await set(node, "near", "mine")).toBe(200);
  },
  CLUSTER_TEST_TIMEOUT_MS,
);
