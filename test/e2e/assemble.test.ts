// assembleNode runs a whole node in the calling process, wired exactly as `bun src/main.ts` wires it: two of them
// form a cluster over the bus, replicate a write and stop cleanly, without a child process.
import { expect, test } from "bun:test";
import { assembleNode, StartError } from "../../src/assemble.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { createLogger } from "../../src/log/logger.ts";
import { CLUSTER_TEST_TIMEOUT_MS, TEST_TIMING, timingArgs, waitForAgreement } from "../support/cluster.ts";
import { freePort } from "../support/free-port.ts";
import { getKey, setKey } from "../support/replication.ts";
import { tempDir } from "../support/temp-dir.ts";

const AGREE_WAIT_MS = 15_000;

function configFor(port: number, dataDir: string, peers: readonly string[]) {
  const argv = ["-server.port", String(port), "-store.backend", "memory", "-data.dir", dataDir, "-node.replication-factor", "2", "-node.peers", peers.join(","), ...timingArgs(TEST_TIMING)];
  const parsed = parseConfig(argv, {});
  if (!parsed.ok) throw new Error("test config refused");
  return { ...parsed.config, nodeUrl: `http://127.0.0.1:${port}`, nodePeers: peers.filter((peer) => !peer.endsWith(`:${port}`)) };
}

test("two nodes assembled in one process form a cluster, replicate a write both ways and stop", async () => {
  await using dir = await tempDir();
  const ports = [freePort(), freePort()];
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  // Quiet: a test's output is no place for a node's log lines.
  const quiet = (url: string) => createLogger(url, "error", () => undefined);
  const nodes = await Promise.all(ports.map((port, i) => assembleNode(configFor(port, dir.path, urls), { logger: quiet(urls[i]!) })));
  try {
    await waitForAgreement(urls, urls, AGREE_WAIT_MS);
    expect((await setKey(urls[0]!, "in-process", "v")).status).toBe(200);
    expect((await getKey(urls[1]!, "in-process")).value).toBe("v");
    // A second node on a port already taken cannot start: StartError with the exit code main ends with.
    const taken = await assembleNode(configFor(ports[0]!, dir.path, []), { logger: quiet(urls[0]!) }).catch((error: unknown) => error);
    expect(taken).toBeInstanceOf(StartError);
    expect((taken as StartError).exitCode).toBe(1);
  } finally {
    await Promise.all(nodes.map((node) => node.stop("test over", false)));
  }
  // Stopped: nothing answers on their ports any more.
  expect(await fetch(`${urls[0]}/api/v1/health`).then(() => "answered", () => "refused")).toBe("refused");
}, CLUSTER_TEST_TIMEOUT_MS);
