// Every `limedb` command as a real process against a real three-node cluster: output, --json and exit codes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, startCluster, waitForAgreement, waitUntil, type Cluster } from "../support/cluster.ts";
import { freePort } from "../support/free-port.ts";
import { runLimedb, type CliRun } from "../support/limedb-cli.ts";

/** Bound on a wait that should never come near it; it only keeps a broken cluster from hanging the suite. */
const WAIT_MAX_MS = 15_000;

let cluster: Cluster;
let urls: string[];

beforeAll(async () => {
  cluster = await startCluster({ size: 3 });
  urls = cluster.urls;
  await waitForAgreement(urls, urls, WAIT_MAX_MS);
}, CLUSTER_TEST_TIMEOUT_MS);

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
}, CLUSTER_TEST_TIMEOUT_MS);

function node(index: number): string {
  const url = urls[index];
  if (url === undefined) throw new Error(`no node ${index}`);
  return url;
}

function expectSuccess(run: CliRun): void {
  expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({ exitCode: 0, stderr: "" });
}

/** A failure prints nothing on stdout and exactly one line on stderr, starting "limedb: ". */
function expectFailure(run: CliRun, exitCode: number, message: RegExp): void {
  expect({ exitCode: run.exitCode, stdout: run.stdout }).toEqual({ exitCode, stdout: "" });
  expect(run.stderr).toMatch(/^limedb: [^\n]+\n$/);
  expect(run.stderr).toMatch(message);
}

/** Waits until `nodeUrl` itself holds every key of `keys`: with three copies, a write is acknowledged by two and reaches the third a moment later. */
async function waitUntilHeld(nodeUrl: string, keys: readonly string[]): Promise<void> {
  await waitUntil(
    `${nodeUrl} holds ${keys.join(", ")}`,
    async () => ((await (await fetchNode(`${nodeUrl}/api/v1/keys?pageSize=100`)).json()) as { keys: { key: string }[] }).keys.map((k) => k.key),
    (held) => keys.every((key) => held.includes(key)),
    WAIT_MAX_MS,
  );
}

describe("reading and writing keys", () => {
  test(
    "a value set through one node is read back through another, as is and as JSON",
    async () => {
      const set = await runLimedb(["set", "greeting", "hello, world", "--node", node(0)]);
      expectSuccess(set);
      expect(set.stdout).toBe("OK\n");

      const [plain, json] = await Promise.all([runLimedb(["get", "greeting", "--node", node(1)]), runLimedb(["--json", "--node", node(2), "get", "greeting"])]);
      expectSuccess(plain);
      // Exactly the value: no newline is added when stdout is not a terminal, so `limedb get k > file` round-trips.
      expect(plain.stdout).toBe("hello, world");
      expectSuccess(json);
      const body = JSON.parse(json.stdout) as { key: string; value: string; nodeUrl: string };
      expect(body.key).toBe("greeting");
      expect(body.value).toBe("hello, world");
      expect(urls).toContain(body.nodeUrl);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "set reads the value from stdin when none is given, byte for byte",
    async () => {
      const value = "line one\nline two 🍋\n";
      expectSuccess(await runLimedb(["set", "from-stdin", "--node", node(1)], { stdin: value }));
      const get = await runLimedb(["get", "from-stdin", "--json", "--node", node(0)]);
      expectSuccess(get);
      expect((JSON.parse(get.stdout) as { value: string }).value).toBe(value);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "LIMEDB_NODE names the node when --node is not given",
    async () => {
      const run = await runLimedb(["get", "greeting"], { env: { LIMEDB_NODE: node(2) } });
      expectSuccess(run);
      expect(run.stdout).toBe("hello, world");
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "a key that does not exist exits with 1, for get and for del",
    async () => {
      const [get, json] = await Promise.all([runLimedb(["get", "no-such-key", "--node", node(0)]), runLimedb(["get", "no-such-key", "--json", "--node", node(1)])]);
      expectFailure(get, 1, /key "no-such-key" not found/);
      expectFailure(json, 1, /not found/);
      expectFailure(await runLimedb(["del", "no-such-key", "--node", node(2)]), 1, /key "no-such-key" not found/);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "del removes a key everywhere; a second del finds nothing",
    async () => {
      expectSuccess(await runLimedb(["set", "doomed", "x", "--node", node(0)]));
      const del = await runLimedb(["del", "doomed", "--node", node(1)]);
      expectSuccess(del);
      expect(del.stdout).toBe("deleted\n");
      const again = await runLimedb(["del", "doomed", "--json", "--node", node(2)]);
      expect(again.exitCode).toBe(1);
      expect(JSON.parse(again.stdout)).toEqual({ key: "doomed", deleted: false });
      expectFailure(await runLimedb(["get", "doomed", "--node", node(0)]), 1, /not found/);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "keys lists a node's keys page by page, or all of them",
    async () => {
      const mine = ["list:a", "list:b", "list:c", "list:d", "list:e"];
      // Written over HTTP: this test is about listing, and set is tested above.
      await Promise.all(
        mine.map(async (key, i) => {
          const response = await fetchNode(`${node(0)}/api/v1/set`, { method: "POST", body: JSON.stringify({ key, value: `value ${i}` }) });
          expect(response.status).toBe(200);
        }),
      );
      await waitUntilHeld(node(1), mine);

      const all = await runLimedb(["keys", "--all", "--json", "--node", node(1)]);
      expectSuccess(all);
      const listed = JSON.parse(all.stdout) as { keys: { key: string; value: string; size: number }[]; total: number };
      const names = listed.keys.map((k) => k.key);
      expect(names).toEqual([...names].sort());
      expect(listed.total).toBe(names.length);
      expect(listed.keys.filter((k) => k.key.startsWith("list:"))).toEqual(mine.map((key, i) => ({ key, value: `value ${i}`, size: `value ${i}`.length })));

      const [page, table] = await Promise.all([
        runLimedb(["keys", "--page", "2", "--page-size", "2", "--json", "--node", node(1)]),
        runLimedb(["keys", "--page", "2", "--page-size", "2", "--node", node(1)]),
      ]);
      expectSuccess(page);
      const second = JSON.parse(page.stdout) as { keys: { key: string }[]; page: number; pageSize: number; total: number; totalPages: number };
      expect(second.keys.map((k) => k.key)).toEqual(names.slice(2, 4));
      expect({ page: second.page, pageSize: second.pageSize, totalPages: second.totalPages }).toEqual({ page: 2, pageSize: 2, totalPages: Math.ceil(names.length / 2) });

      expectSuccess(table);
      const lines = table.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^KEY\s+SIZE\s+VALUE$/);
      expect(lines.at(-1)).toBe(`page 2 of ${second.totalPages}, ${second.total} keys on ${node(1)}`);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});

describe("looking at the cluster", () => {
  test(
    "status shows the node, its replication settings and all three members",
    async () => {
      const [plain, json] = await Promise.all([runLimedb(["status", "--node", node(0)]), runLimedb(["status", "--json", "--node", node(0)])]);
      expectSuccess(plain);
      expect(plain.stdout).toStartWith(`node         ${node(0)} (healthy, `);
      expect(plain.stdout).toContain("ring         3 nodes; members 3 active\n");
      expect(plain.stdout).toContain("replication  factor 3 (3 copies now), write quorum 2, read quorum 2\n");
      expect(plain.stdout).toContain("majority     yes (sees 3 of 3 members)\n");
      for (const url of urls) expect(plain.stdout).toMatch(new RegExp(`^${url}\\s+active\\s+\\d+\\s+\\d+`, "m"));

      expectSuccess(json);
      const body = JSON.parse(json.stdout) as { nodeUrl: string; state: { members: { url: string }[]; replication: { factor: number } }; health: { status: string } };
      expect(body.nodeUrl).toBe(node(0));
      expect(body.state.members.map((m) => m.url).sort()).toEqual(urls);
      expect(body.state.replication.factor).toBe(3);
      expect(body.health.status).toBe("healthy");
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "ring shows each node's share with its deviation and a bar; --json is the node's answer to the digit",
    async () => {
      const [plain, json, raw] = await Promise.all([
        runLimedb(["ring", "--node", node(1)]),
        runLimedb(["ring", "--json", "--node", node(1)]),
        fetchNode(`${node(1)}/api/v1/cluster/ring`).then((response) => response.text()),
      ]);
      expectSuccess(plain);
      const lines = plain.stdout.trimEnd().split("\n");
      expect(lines[0]).toBe(`ring of ${node(1)}: 3 nodes, 256 virtual nodes each (768 points)`);
      expect(lines[2]).toMatch(/^NODE\s+VNODES\s+SHARE\s+DEVIATION\s+DISTRIBUTION$/);
      expect(lines.slice(3).map((line) => line.split(/\s+/)[0])).toEqual(urls);
      for (const line of lines.slice(3)) expect(line).toMatch(/\s256\s+\d+\.\d%\s+[+-]\d+\.\d%\s+[█▏▎▍▌▋▊▉·]{30}$/);

      expectSuccess(json);
      expect(json.stdout).toBe(`${raw}\n`);
      const body = JSON.parse(json.stdout) as { allNodes: string[]; shares: Record<string, number> };
      expect(body.allNodes).toEqual(urls);
      expect(Object.values(body.shares).reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 6);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "gossip shows the cluster's health and both peers",
    async () => {
      const [plain, json] = await Promise.all([runLimedb(["gossip", "--node", node(2)]), runLimedb(["gossip", "--json", "--node", node(2)])]);
      expectSuccess(plain);
      expect(plain.stdout).toStartWith(`gossip of  ${node(2)}: healthy, heartbeat `);
      expect(plain.stdout).toContain("peers      2 (2 active, 0 stale, 0 dead), convergence 100%");
      for (const url of urls.filter((u) => u !== node(2))) expect(plain.stdout).toMatch(new RegExp(`^${url}\\s+active\\s+\\d+`, "m"));

      expectSuccess(json);
      const body = JSON.parse(json.stdout) as { node_url: string; total_peers: number; peer_details: { url: string }[] };
      expect(body.node_url).toBe(node(2));
      expect(body.total_peers).toBe(2);
      expect(body.peer_details.map((p) => p.url).sort()).toEqual(urls.filter((u) => u !== node(2)));
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});

describe("removing a member", () => {
  test(
    "remove refuses a member that still answers gossip with exit 2, and the ring keeps it",
    async () => {
      const run = await runLimedb(["remove", node(2), "--node", node(0)]);
      expectFailure(run, 2, /is not held dead by this node/);
      const ring = await runLimedb(["ring", "--json", "--node", node(0)]);
      expect((JSON.parse(ring.stdout) as { allNodes: string[] }).allNodes).toEqual(urls);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test("remove needs a node URL for its member", async () => {
    expectFailure(await runLimedb(["remove", "node-3"]), 2, /invalid node URL/);
  });
});

describe("failures", () => {
  const usageErrors: readonly (readonly [string, readonly string[], RegExp])[] = [
    ["a command without its key", ["get"], /missing required argument 'key'/],
    ["an unknown command", ["fetch", "k"], /unknown command 'fetch'/],
    ["an unknown option", ["get", "k", "--color"], /unknown option '--color'/],
    ["--all with --page", ["keys", "--all", "--page", "2"], /cannot be used with/],
    ["a page size of 0", ["keys", "--page-size", "0"], /--page-size must be an integer from 1 to 100/],
    ["a page that is not a number", ["keys", "--page", "two"], /--page must be an integer/],
    ["a node URL that is not http", ["--node", "ftp://example.com", "status"], /only http and https/],
    ["an empty key", ["get", ""], /the key must not be empty/],
    ["tui without a terminal", ["tui"], /tui needs a terminal/],
  ];

  test(
    `usage errors exit with 2: ${usageErrors.map(([name]) => name).join("; ")}`,
    async () => {
      const runs = await Promise.all(usageErrors.map(([, args]) => runLimedb(args.includes("--node") ? args : [...args, "--node", node(0)])));
      runs.forEach((run, i) => expectFailure(run, 2, usageErrors[i]?.[2] ?? /never/));
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test("no command at all prints the usage on stderr and exits with 2", async () => {
    const run = await runLimedb([]);
    expect({ exitCode: run.exitCode, stdout: run.stdout }).toEqual({ exitCode: 2, stdout: "" });
    expect(run.stderr).toStartWith("Usage: limedb");
  });

  test(
    "a key the node refuses as too large is a usage error (exit 2) with the node's reason",
    async () => {
      expectFailure(await runLimedb(["set", "k".repeat(1_025), "v", "--node", node(0)]), 2, /the node refused the request: .*\(413 too_large\)/);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "every command against a port nobody listens on exits with 3",
    async () => {
      const commands = [["get", "k"], ["set", "k", "v"], ["del", "k"], ["keys"], ["status"], ["ring"], ["gossip"]];
      const dead = `http://127.0.0.1:${freePort()}`;
      const runs = await Promise.all(commands.map((args) => runLimedb([...args, "--node", dead])));
      for (const run of runs) expectFailure(run, 3, new RegExp(`cannot reach ${dead}: connection refused`));
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test("a node that never answers is given up on after --timeout-ms and exits with 3", async () => {
    const silent = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Promise<Response>(() => {}) });
    try {
      const started = performance.now();
      const run = await runLimedb(["status", "--timeout-ms", "300", "--node", `http://127.0.0.1:${silent.port}`]);
      expectFailure(run, 3, /did not answer GET \/api\/v1\/cluster\/state within 300 ms|did not answer GET \/api\/v1\/health within 300 ms/);
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      silent.stop(true);
    }
  });

  test("a server that is not a LimeDB node exits with 3", async () => {
    const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("<html>hello</html>", { headers: { "content-type": "text/html" } }) });
    try {
      expectFailure(await runLimedb(["gossip", "--node", `http://127.0.0.1:${other.port}`]), 3, /answered something that is not JSON/);
    } finally {
      other.stop(true);
    }
  });

  test("--help explains the commands and the exit codes, and exits with 0", async () => {
    const run = await runLimedb(["--help"]);
    expectSuccess(run);
    expect(run.stdout).toContain("Usage: limedb");
    for (const command of ["get", "set", "del", "keys", "status", "ring", "gossip", "tui"]) expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    expect(run.stdout).toContain("Exit codes: 0 success, 1 key not found, 2 usage error");
  });
});
