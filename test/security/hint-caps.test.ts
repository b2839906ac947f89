// Attack: hints for a member that never returns, kept without end (a million rows of 1 MiB), on real node processes.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { VALUE_BYTES_MAX_DEFAULT } from "../../src/config/settings.ts";
import { HintStore } from "../../src/node/hint-store.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { fileStem } from "../../src/store/file-name.ts";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, readRing, TEST_TIMING, timingArgs, urlOf, waitUntil, type ClusterTiming } from "../support/cluster.ts";
import { freePort } from "../support/free-port.ts";
import { startNode, type NodeProcess } from "../support/node-process.ts";
import { select, parsePrometheusText } from "../support/prometheus-text.ts";
import { getKey, inParallel, ownRecord, readReplication, setKey } from "../support/replication.ts";
import { tempDir } from "../support/temp-dir.ts";

/** Dead only after a minute: the killed member stays in the ring, so every write it misses becomes a hint. */
const STAYS_IN_RING: ClusterTiming = { ...TEST_TIMING, deadAfterMs: 60_000 };
/** Writes of a full-size value while the member is down: their hints pass the 64 MiB a target may hold. */
const WRITES = 70;
/** Hints of one full-size value each that fit in HINT_BYTES_PER_TARGET_MAX (64 MiB): a value and its record's envelope. */
const HINTS_KEPT_MAX = 63;
const CONCURRENCY = 4;
/** Bound on each wait: to join, to deliver the kept hints, to drop the forgotten ones, and to converge. */
const WAIT_MS = 20_000;
const ANTI_ENTROPY_MS = 500;
/** W=1, R=1: writes and reads succeed on the coordinator alone while the other member is down. */
const ONE_ACK = ["-node.write-quorum", "1", "-node.read-quorum", "1"];
const NO_SECRET = { NODE_PEERS: "", CLUSTER_SECRET: "" };

/** Stops the nodes with SIGINT when the scope ends: a graceful leave would wait to hand data off to the one that is down. */
function interruptAtEnd(nodes: readonly NodeProcess[]): AsyncDisposable {
  return { [Symbol.asyncDispose]: async () => void (await Promise.allSettled(nodes.map((node) => node.interrupt()))) };
}

/** A node's /metrics samples of hints dropped for `reason`, summed (0 when the series is absent). */
async function droppedHints(nodeUrl: string, reason: string): Promise<number> {
  const samples = parsePrometheusText(await (await fetchNode(`${nodeUrl}/metrics`)).text());
  return select(samples, "limedb_hints_dropped_total", { reason }).reduce((sum, sample) => sum + sample.value, 0);
}

function record(key: string, value: string): StoredRecord {
  // A second in the past: a version from this very moment is fine, one from the future would be refused.
  return { key, value, version: { wallMs: Date.now() - 1000, counter: 0, node: "http://127.0.0.1:1" }, tombstone: false, expiresAtMs: undefined };
}

describe("hints for a member that is down", () => {
  test(
    "stop at 64 MiB for that member: later ones are dropped and counted, the writes still succeed, and anti-entropy repairs the member once it is back",
    async () => {
      await using dirs = await tempDir();
      const args = [...timingArgs(STAYS_IN_RING), ...ONE_ACK, "-node.anti-entropy-interval-ms", String(ANTI_ENTROPY_MS)];
      await using down = await startNode({ dataDir: join(dirs.path, "down"), args, env: NO_SECRET });
      await using coordinator = await startNode({ dataDir: join(dirs.path, "coordinator"), args: [...args, "-node.peers", down.url], env: NO_SECRET });
      await using _interrupt = interruptAtEnd([coordinator, down]);
      await waitUntil("the coordinator's ring holds both", () => readRing(coordinator.url), (ring) => ring.allNodes.length === 2, WAIT_MS);

      await down.kill9();
      const value = "a".repeat(VALUE_BYTES_MAX_DEFAULT);
      const keys = Array.from({ length: WRITES }, (_, i) => `big-${String(i).padStart(3, "0")}`);
      const written = await inParallel(keys, CONCURRENCY, (key) => setKey(coordinator.url, key, value));
      expect(written.filter((answer) => answer.status !== 200).map((answer) => `${answer.status} ${answer.text.slice(0, 200)}`)).toEqual([]);

      const backlog = (await readReplication(coordinator.url)).hintsByTarget[down.url] ?? 0;
      expect(backlog).toBeGreaterThan(0);
      expect(backlog).toBeLessThanOrEqual(HINTS_KEPT_MAX);
      expect(await droppedHints(coordinator.url, "bytes_cap")).toBe(WRITES - backlog);

      // Back up, the member gets the kept hints, and anti-entropy the writes whose hints were dropped.
      await down.restart();
      await waitUntil("the coordinator delivered every kept hint", () => readReplication(coordinator.url), (r) => r.hintBacklog === 0, WAIT_MS);
      const last = keys.at(-1)!;
      await waitUntil(`${down.url} holds ${last}, whose hint was dropped`, () => ownRecord(down.url, last), (held) => held?.value === value, WAIT_MS);
      expect((await getKey(coordinator.url, last)).value).toBe(value);
    },
    CLUSTER_TEST_TIMEOUT_MS * 2,
  );
});

describe("hints for a member the cluster has forgotten", () => {
  test(
    "are dropped and counted once it has been missing from the member table a while; hints for a live member are still delivered",
    async () => {
      await using dirs = await tempDir();
      const args = [...timingArgs(TEST_TIMING), ...ONE_ACK];
      await using live = await startNode({ dataDir: join(dirs.path, "live"), args, env: NO_SECRET });
      // The coordinator's hint file, written before it starts: left from an earlier run for a member long gone.
      const port = freePort();
      const dataDir = join(dirs.path, "coordinator");
      const forgotten = urlOf(freePort());
      const hints = new HintStore(join(dataDir, `${fileStem(urlOf(port))}.hints.sqlite`), Date.now);
      for (let i = 0; i < 3; i++) hints.add(forgotten, record(`gone-${i}`, "v"));
      hints.add(live.url, record("kept", "delivered"));
      hints.close();

      await using coordinator = await startNode({ dataDir, port, args: [...args, "-node.peers", live.url], env: NO_SECRET });
      await using _interrupt = interruptAtEnd([coordinator, live]);
      await waitUntil("the coordinator dropped the forgotten member's hints", () => droppedHints(coordinator.url, "forgotten"), (dropped) => dropped === 3, WAIT_MS);
      const replication = await waitUntil("no hint is left", () => readReplication(coordinator.url), (r) => r.hintBacklog === 0, WAIT_MS);
      expect(replication.value.hintsDelivered).toBe(1);
      expect((await ownRecord(live.url, "kept"))?.value).toBe("delivered");
      expect((await getKey(coordinator.url, "kept")).status).toBe(200);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
