// Batches across real processes (RF=3, W=2, R=2): every key of an mset lands on its three replicas with one
// version, as a SET would; an mget through another node reads them all; with one replica down the batch still
// meets its quorums, and with two down every key is answered as failed, saying the write was not acknowledged.
import { expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, startCluster, waitForAgreement, type ClusterTiming } from "../support/cluster.ts";
import { fullyReplicated, interruptOnExit, readReplicas, replicationArgs, REPLICATION_TIMING } from "../support/replication.ts";

/** Dead only after a minute: a killed replica stays in every ring, so its writes must fail over to the others. */
const STAYS_IN_RING: ClusterTiming = { ...REPLICATION_TIMING, deadAfterMs: 60_000 };
const ANTI_ENTROPY_OFF_MS = 3_600_000;
const KEYS = 300;

interface MsetAnswer {
  results: { key: string; ok: boolean; code?: string; error?: string }[];
  written: number;
  failed: number;
}
interface MgetAnswer {
  results: { key: string; found?: boolean; value?: string; code?: string }[];
}

async function batch<T>(nodeUrl: string, path: "mget" | "mset", body: unknown): Promise<{ status: number; answer: T }> {
  const response = await fetchNode(`${nodeUrl}/api/v1/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }, 15_000);
  return { status: response.status, answer: (await response.json()) as T };
}

test(
  "an mset is coordinated key by key like SETs, and an mget through another node reads it; quorums hold with a replica down and fail per key with two",
  async () => {
    await using cluster = await startCluster({ size: 3, timing: STAYS_IN_RING, args: replicationArgs(ANTI_ENTROPY_OFF_MS) });
    // Stopped with SIGINT: SIGTERM would have the last node hand its data to members that are gone.
    await using _stop = interruptOnExit(cluster);
    const urls = cluster.urls;
    await waitForAgreement(urls, urls, 15_000);
    const [a, b] = [cluster.node(0), cluster.node(1)];
    const keys = Array.from({ length: KEYS }, (_, i) => `batch-${i}`);
    const first = await batch<MsetAnswer>(a.url, "mset", { entries: keys.map((key) => ({ key, value: `v1 of ${key}` })) });
    expect(first.status).toBe(200);
    expect(first.answer.failed).toBe(0);
    expect(first.answer.written).toBe(KEYS);

    const read = await batch<MgetAnswer>(b.url, "mget", { keys });
    expect(read.answer.results.filter((r) => r.found !== true || r.value !== `v1 of ${r.key}`)).toEqual([]);
    // Every replica holds the key with one version, as one SET leaves it (the third replica is written after the quorum).
    for (const key of keys.slice(0, 20)) {
      const replicas = await readReplicas(a.url, key);
      if (!fullyReplicated(replicas, 3)) await Bun.sleep(500);
      expect(fullyReplicated(await readReplicas(a.url, key), 3)).toBe(true);
    }

    // One replica of every key down: W=2 and R=2 are still met.
    await cluster.node(2).kill9();
    const second = await batch<MsetAnswer>(a.url, "mset", { entries: keys.map((key) => ({ key, value: `v2 of ${key}` })) });
    expect(second.answer.results.filter((r) => !r.ok)).toEqual([]);
    const reread = await batch<MgetAnswer>(b.url, "mget", { keys });
    expect(reread.answer.results.filter((r) => r.found !== true || r.value !== `v2 of ${r.key}`)).toEqual([]);

    // Two down: no key can meet W=2; each says so, and none is reported written.
    await b.kill9();
    const third = await batch<MsetAnswer>(a.url, "mset", { entries: keys.slice(0, 50).map((key) => ({ key, value: `v3 of ${key}` })) });
    expect(third.status).toBe(200);
    expect(third.answer.written).toBe(0);
    expect(third.answer.failed).toBe(50);
    for (const result of third.answer.results) {
      expect(["unavailable", "timeout"]).toContain(result.code!);
      expect(result.error).toMatch(/not applied|may or may not have been applied/);
    }
  },
  CLUSTER_TEST_TIMEOUT_MS * 2,
);
