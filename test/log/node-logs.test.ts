// The log a real node writes: JSON lines for its start, membership changes, rebalancing and stop; none per request unless asked.
import { describe, expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, startCluster, waitUntil } from "../support/cluster.ts";
import { startNode, type NodeProcess } from "../support/node-process.ts";
import { freePort } from "../support/free-port.ts";
import { tempDir } from "../support/temp-dir.ts";

interface LogLine {
  readonly level: string;
  readonly time: string;
  readonly node: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

const KEY = "logged-key-zq9x";
const WAIT_MAX_MS = 15_000;

/** Every line the node wrote to stdout; each must be one JSON object with the four fixed fields. */
function logLines(node: NodeProcess): LogLine[] {
  return node.stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((text) => {
      const line = JSON.parse(text) as LogLine;
      expect(typeof line.level).toBe("string");
      expect(new Date(line.time).toISOString()).toBe(line.time);
      expect(line.node).toBe(node.url);
      expect(typeof line.message).toBe("string");
      return line;
    });
}

/** A few of each kind of request, the key in every one that takes a key, and a bad one. */
async function someRequests(url: string): Promise<void> {
  const json = { "content-type": "application/json" };
  for (let i = 0; i < 5; i++) {
    expect((await fetchNode(`${url}/api/v1/set`, { method: "POST", headers: json, body: JSON.stringify({ key: `${KEY}${i}`, value: "v" }) })).status).toBe(200);
    expect((await fetchNode(`${url}/api/v1/get/${KEY}${i}`)).status).toBe(200);
  }
  expect((await fetchNode(`${url}/api/v1/get/${KEY}-missing`)).status).toBe(404);
  expect((await fetchNode(`${url}/api/v1/set`, { method: "POST", headers: json, body: "{" })).status).toBe(400);
  expect((await fetchNode(`${url}/api/v1/del/${KEY}0`, { method: "DELETE" })).status).toBe(200);
}

async function runNode(level: string | undefined): Promise<LogLine[]> {
  await using dir = await tempDir("limedb-logs-");
  const node = await startNode({ dataDir: dir.path, backend: "memory", args: level === undefined ? [] : ["-log.level", level] });
  try {
    await someRequests(node.url);
  } finally {
    expect(await node.stop()).toBe(0);
  }
  return logLines(node);
}

describe("a node's log", () => {
  test(
    "by default: one line at start and the lines of its stop, none per request, and no key anywhere",
    async () => {
      const lines = await runNode(undefined);
      expect(lines.filter((line) => line.message === "node started")).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: "info", message: "node started", store: "memory", telemetry: "off" });
      expect(lines.map((line) => line.message)).not.toContain("request answered");
      expect(lines.length).toBeLessThanOrEqual(5);
      expect(JSON.stringify(lines)).not.toContain(KEY);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "at LOG_LEVEL=debug every request gets a line with its route template and status, never its key",
    async () => {
      const answered = (await runNode("debug")).filter((line) => line.message === "request answered");
      expect(answered.filter((line) => line.route === "/api/v1/get/:key").map((line) => line.status)).toEqual([200, 200, 200, 200, 200, 404]);
      expect(answered.filter((line) => line.route === "/api/v1/set").map((line) => line.status)).toEqual([200, 200, 200, 200, 200, 400]);
      expect(answered.every((line) => line.level === "debug" && typeof line.durationMs === "number")).toBe(true);
      expect(JSON.stringify(answered)).not.toContain(KEY);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "at LOG_LEVEL=warn a healthy node's start, requests and stop write nothing",
    async () => {
      expect(await runNode("warn")).toEqual([]);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "a node given peers but no CLUSTER_SECRET says once, as a warning, what is open to whom; with a secret it does not",
    async () => {
      await using dir = await tempDir("limedb-logs-");
      const seed = ["-node.peers", `http://127.0.0.1:${freePort()}`];
      await using open = await startNode({ dataDir: `${dir.path}/open`, backend: "memory", args: seed });
      await using guarded = await startNode({ dataDir: `${dir.path}/guarded`, backend: "memory", args: seed, env: { CLUSTER_SECRET: "s3cret" } });
      const warnings = logLines(open).filter((line) => line.level === "warn");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toContain("no CLUSTER_SECRET");
      expect(warnings[0]!.message).toContain("web pages cannot");
      expect(logLines(guarded).filter((line) => line.level === "warn")).toEqual([]);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "a join is logged as a membership change on both nodes, and the keys it moves as one rebalance",
    async () => {
      await using cluster = await startCluster({ size: 1 });
      const first = cluster.node(0);
      await someRequests(first.url);
      const second = await cluster.add(first.url);
      // Two nodes at the default three copies: each keeps a copy of every key, so the first streams them all.
      const { value: rebalanced } = await waitUntil(
        "the first node logs the rebalance",
        async () => logLines(first).filter((line) => line.message === "rebalanced"),
        (lines) => lines.some((line) => (line.streamed as number) > 0),
        WAIT_MAX_MS,
      );
      expect(rebalanced.reduce((sum, line) => sum + (line.streamed as number), 0)).toBe(5);
      expect(logLines(first)).toContainEqual(expect.objectContaining({ message: "membership changed", member: second.url, to: "active" }));
      expect(logLines(second)).toContainEqual(expect.objectContaining({ message: "membership changed", member: first.url, to: "active" }));
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
