// The Redis front door on a real 3-node cluster (RF=3), driven by real Redis clients: Debian's redis-cli, Bun's
// built-in RedisClient (RESP3) and ioredis. Values cross between RESP and HTTP both ways, TTLs agree, SCAN
// visits every key once, pipelining works, AUTH guards a node with REDIS_PASSWORD, and garbage closes only the
// connection that sent it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import Redis from "ioredis";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, freePorts, startCluster, waitForAgreement, type Cluster } from "../support/cluster.ts";
import { getKey, interruptOnExit, replicationArgs, REPLICATION_TIMING, setKey } from "../support/replication.ts";

const ANTI_ENTROPY_OFF_MS = 3_600_000;
const PASSWORD = "resp test password";
const REDIS_CLI_TIMEOUT_MS = 10_000;

let cluster: Cluster;
let stop: AsyncDisposable;
let redisPorts: number[];

beforeAll(async () => {
  redisPorts = freePorts(3);
  // Node 2 alone asks for a password.
  cluster = await startCluster({
    size: 3,
    timing: REPLICATION_TIMING,
    args: replicationArgs(ANTI_ENTROPY_OFF_MS),
    argsOf: (i) => ["-redis.port", String(redisPorts[i]), ...(i === 2 ? ["-redis.password", PASSWORD] : [])],
  });
  stop = interruptOnExit(cluster);
  await waitForAgreement(cluster.urls, cluster.urls, 15_000);
}, CLUSTER_TEST_TIMEOUT_MS);

afterAll(async () => {
  await stop[Symbol.asyncDispose]();
  await cluster[Symbol.asyncDispose]();
});

async function redisCli(port: number, args: readonly string[], stdin?: string): Promise<{ out: string; code: number | null }> {
  const child = Bun.spawn(["redis-cli", "-h", "127.0.0.1", "-p", String(port), ...args], { stdin: stdin === undefined ? "ignore" : new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), REDIS_CLI_TIMEOUT_MS);
  try {
    const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { out: out + err, code: child.exitCode };
  } finally {
    clearTimeout(timer);
  }
}

describe("the Redis protocol", () => {
  test("redis-cli: PING, SET with options, GET, DEL, EXISTS, MSET/MGET, TTL, EXPIRE, unknown commands", async () => {
    const port = redisPorts[0]!;
    const run = async (...args: string[]) => (await redisCli(port, args)).out.trim();
    expect(await run("PING")).toBe("PONG");
    expect(await run("SET", "cli:1", "Ada")).toBe("OK");
    expect(await run("GET", "cli:1")).toBe("Ada");
    expect(await run("SET", "cli:1", "other", "NX")).toBe("");
    expect(await run("SET", "cli:1", "Grace", "XX", "GET")).toBe("Ada");
    expect(await run("SET", "cli:none", "x", "XX")).toBe("");
    expect(await run("EXISTS", "cli:1", "cli:none", "cli:1")).toBe("2");
    expect(await run("MSET", "cli:a", "1", "cli:b", "2")).toBe("OK");
    expect((await run("MGET", "cli:a", "cli:none", "cli:b")).split("\n")).toEqual(["1", "", "2"]);
    expect(await run("SET", "cli:ttl", "v", "EX", "100")).toBe("OK");
    const ttl = Number(await run("TTL", "cli:ttl"));
    expect(ttl).toBeGreaterThan(95);
    expect(ttl).toBeLessThanOrEqual(100);
    expect(await run("TTL", "cli:1")).toBe("-1");
    expect(await run("TTL", "cli:none")).toBe("-2");
    expect(await run("PEXPIRE", "cli:1", "60000")).toBe("1");
    expect(Number(await run("PTTL", "cli:1"))).toBeGreaterThan(55_000);
    expect(await run("DEL", "cli:a", "cli:b", "cli:none")).toBe("2");
    expect(await run("SELECT", "0")).toBe("OK");
    expect(await run("SELECT", "1")).toContain("ERR DB index is out of range");
    expect(await run("FLUSHALL")).toContain("ERR unknown command 'FLUSHALL'");
    expect(await run("GET")).toContain("ERR wrong number of arguments for 'get' command");
    // Any text is a MATCH pattern: a reversed range matches nothing, it is no error of the node.
    expect(await run("SCAN", "0", "MATCH", "[z-a]*", "COUNT", "1000")).not.toContain("ERR");
  });

  test("values cross between RESP and HTTP both ways, through different nodes, and TTLs agree", async () => {
    const [a, b] = [cluster.node(0), cluster.node(1)];
    const client = new RedisClient(`redis://127.0.0.1:${redisPorts[1]}`);
    try {
      expect((await setKey(a.url, "cross:http", "from HTTP")).status).toBe(200);
      expect(await client.get("cross:http")).toBe("from HTTP");
      await client.set("cross:resp", "from RESP ✓");
      expect((await getKey(a.url, "cross:resp")).value).toBe("from RESP ✓");
      const response = await fetchNode(`${b.url}/api/v1/set`, { method: "POST", body: JSON.stringify({ key: "cross:ttl", value: "v", ttlMs: 30_000 }) });
      expect(response.status).toBe(200);
      const pttl = await client.pttl("cross:ttl");
      expect(pttl).toBeGreaterThan(25_000);
      expect(pttl).toBeLessThanOrEqual(30_000);
      await client.del("cross:http");
      expect((await getKey(b.url, "cross:http")).status).toBe(404);
    } finally {
      client.close();
    }
  });

  test("ioredis: pipelining, MGET, and a SCAN stream that visits every key once", async () => {
    const client = new Redis({ host: "127.0.0.1", port: redisPorts[0]!, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      const keys = Array.from({ length: 500 }, (_, i) => `scan:${i}`);
      const pipeline = client.pipeline();
      for (const key of keys) pipeline.set(key, `value of ${key}`);
      const results = await pipeline.exec();
      expect(results?.filter(([error, answer]) => error !== null || answer !== "OK")).toEqual([]);
      expect(await client.mget("scan:0", "scan:499", "scan:none")).toEqual(["value of scan:0", "value of scan:499", null]);
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const stream = client.scanStream({ match: "scan:*", count: 50 });
        stream.on("data", (batch: string[]) => seen.push(...batch));
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      expect(seen.length).toBe(keys.length);
      expect(seen.toSorted()).toEqual(keys.toSorted());
      // redis-cli's own --scan parses the cursor as an integer, and finds the same keys.
      const cli = await redisCli(redisPorts[1]!, ["--scan", "--pattern", "scan:*"]);
      expect(cli.out.trim().split("\n").toSorted()).toEqual(keys.toSorted());
    } finally {
      client.disconnect();
    }
  });

  test("RESP3 after HELLO 3: Bun's RedisClient speaks it; INFO and CLIENT SETNAME answer", async () => {
    const client = new RedisClient(`redis://127.0.0.1:${redisPorts[0]}`);
    try {
      await client.set("resp3:k", "v");
      expect(await client.get("resp3:k")).toBe("v");
      expect(await client.get("resp3:none")).toBeNull();
      const hello = (await client.send("HELLO", ["3"])) as Record<string, unknown>;
      expect({ server: hello.server, proto: hello.proto }).toEqual({ server: "redis", proto: 3 });
      const info = (await client.send("INFO", ["server"])) as string;
      expect(info).toContain("redis_version:");
      expect(await client.send("CLIENT", ["SETNAME", "tester"])).toBe("OK");
      expect(await client.send("CLIENT", ["GETNAME"])).toBe("tester");
    } finally {
      client.close();
    }
  });

  test("a node with REDIS_PASSWORD refuses commands before AUTH, and takes the password", async () => {
    const port = redisPorts[2]!;
    expect((await redisCli(port, ["GET", "k"])).out).toContain("NOAUTH");
    expect((await redisCli(port, ["-a", "wrong", "--no-auth-warning", "GET", "k"])).out).toContain("WRONGPASS");
    expect((await redisCli(port, ["-a", PASSWORD, "--no-auth-warning", "SET", "auth:k", "v"])).out.trim()).toBe("OK");
    const client = new Redis({ host: "127.0.0.1", port, password: PASSWORD, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      expect(await client.get("auth:k")).toBe("v");
    } finally {
      client.disconnect();
    }
  });

  test("a malformed frame gets a protocol error and closes that connection only", async () => {
    const port = redisPorts[0]!;
    const answer = await new Promise<string>((resolve, reject) => {
      let received = "";
      void Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          open: (socket) => void socket.write("*1\r\n$abc\r\n"),
          data: (_socket, data) => void (received += Buffer.from(data).toString()),
          close: () => resolve(received),
          error: (_socket, error) => reject(error),
        },
      });
      setTimeout(() => reject(new Error("the connection stayed open")), 5_000);
    });
    expect(answer).toStartWith("-ERR Protocol error");
    // Another connection is served as before.
    expect((await redisCli(port, ["PING"])).out.trim()).toBe("PONG");
  });
});
