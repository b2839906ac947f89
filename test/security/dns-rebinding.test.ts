// DNS rebinding: a page on attacker.example whose name is re-pointed at 127.0.0.1 is "same origin" with the node
// in the browser's eyes, so CORS cannot stop it; only the Host it still names can. Such requests are refused.
import { expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS } from "../support/cluster.ts";
import { startNode, type NodeProcess } from "../support/node-process.ts";
import { parseAnswer, rawExchange, rawRequest } from "../support/raw-http.ts";
import { tempDir } from "../support/temp-dir.ts";

async function setSecret(node: NodeProcess): Promise<void> {
  const set = await rawRequest(node.port, "POST", "/api/v1/set", { host: `127.0.0.1:${node.port}`, "content-type": "application/json" }, JSON.stringify({ key: "secret-key", value: "secret-value" }));
  expect(set.status).toBe(200);
}

async function expectServedAs(node: NodeProcess, host: string): Promise<void> {
  const read = await rawRequest(node.port, "GET", "/api/v1/get/secret-key", { host });
  expect(read.status).toBe(200);
  expect(JSON.parse(read.body)).toMatchObject({ value: "secret-value" });
}

test(
  "a request naming another Host is refused with 403 JSON and reads or writes nothing; loopback names are served",
  async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory" });
    await setSecret(node);
    for (const path of ["/api/v1/keys", "/api/v1/get/secret-key", "/api/v1/cluster/state"]) {
      const attack = await rawRequest(node.port, "GET", path, { host: `attacker.example:${node.port}` });
      expect(attack.status).toBe(403);
      expect(JSON.parse(attack.body)).toMatchObject({ code: "forbidden" });
      expect(attack.body).not.toContain("secret-value");
    }
    const write = await rawRequest(node.port, "POST", "/api/v1/set", { host: `attacker.example:${node.port}`, "content-type": "application/json" }, JSON.stringify({ key: "secret-key", value: "overwritten" }));
    expect(write.status).toBe(403);
    for (const host of [`localhost:${node.port}`, `127.0.0.1:${node.port}`, "LOCALHOST"]) await expectServedAs(node, host);
  },
  CLUSTER_TEST_TIMEOUT_MS,
);

test(
  "names listed in ALLOWED_HOSTS are served, in any case",
  async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory", args: ["-server.allowed-hosts", "db.example.com"] });
    await setSecret(node);
    for (const host of [`db.example.com:${node.port}`, "DB.EXAMPLE.COM"]) await expectServedAs(node, host);
    expect((await rawRequest(node.port, "GET", "/api/v1/get/secret-key", { host: "other.example.com" })).status).toBe(403);
  },
  CLUSTER_TEST_TIMEOUT_MS,
);

test(
  "an HTTP/1.0 request naming no Host gets 400 JSON, not a 500 and an error line in the log",
  async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory" });
    for (let i = 0; i < 3; i++) {
      const answer = parseAnswer(await rawExchange(node.port, "GET /api/v1/health HTTP/1.0\r\n\r\n"));
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ code: "bad_request" });
    }
    await setSecret(node);
    expect(node.stdout).not.toContain('"level":"error"');
  },
  CLUSTER_TEST_TIMEOUT_MS,
);
