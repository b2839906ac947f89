// DBSIZE walks the cluster-wide scan, as costly as the keys it counts: the walk must not hold the node's event
// loop. A request sent while it runs is answered before it ends, not after.
import { expect, test } from "bun:test";
import { fetchNode, freePorts } from "../support/cluster.ts";
import { startNode } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";

/** Keys enough that the walk takes a few hundred ms here (0.7 s at 300k). */
const KEYS = 200_000;
const BATCH = 1_000;
/** How long after DBSIZE is sent the other request goes: the walk is under way by then. */
const WALK_STARTED_MS = 50;
const TEST_TIMEOUT_MS = 60_000;

test("a request sent while DBSIZE walks the keys is answered before the walk ends, and DBSIZE counts every key", async () => {
  await using dir = await tempDir("limedb-dbsize-");
  const [redisPort] = freePorts(1);
  await using node = await startNode({ dataDir: dir.path, backend: "memory", args: ["-redis.port", String(redisPort)] });
  for (let from = 0; from < KEYS; from += BATCH) {
    const entries = Array.from({ length: BATCH }, (_, i) => ({ key: `dbsize-${from + i}`, value: "v" }));
    const response = await fetchNode(`${node.url}/api/v1/mset`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ entries }) });
    expect(response.status).toBe(200);
  }

  const order: string[] = [];
  let answer = "";
  const { promise: answered, resolve } = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: redisPort!,
    socket: {
      data: (_socket, chunk) => {
        answer += chunk.toString();
        if (answer.endsWith("\r\n")) {
          order.push("dbsize");
          resolve();
        }
      },
    },
  });
  socket.write("*1\r\n$6\r\nDBSIZE\r\n");
  await Bun.sleep(WALK_STARTED_MS);
  const health = fetchNode(`${node.url}/api/v1/health`).then((response) => {
    order.push("health");
    return response.status;
  });
  expect(await health).toBe(200);
  await answered;
  socket.end();
  expect(answer).toBe(`:${KEYS}\r\n`);
  expect(order).toEqual(["health", "dbsize"]);
}, TEST_TIMEOUT_MS);
