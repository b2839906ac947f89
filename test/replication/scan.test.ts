// The cluster-wide scan across real processes: at one copy per key on three nodes, a scan through any node
// visits every key of the cluster exactly once (most of the ring read from the other nodes), and a cursor one
// node gave is continued by another.
import { expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, ONE_COPY, startCluster, waitForAgreement } from "../support/cluster.ts";
import { inParallel, setKey } from "../support/replication.ts";

const KEYS = 1_500;
const PAGE = 97;

interface ScanAnswer {
  keys: { key: string; value: string }[];
  next: string | null;
}

async function scanPage(nodeUrl: string, cursor: string | null): Promise<ScanAnswer> {
  const response = await fetchNode(`${nodeUrl}/api/v1/scan?limit=${PAGE}${cursor === null ? "" : `&cursor=${cursor}`}`);
  expect(response.status).toBe(200);
  return (await response.json()) as ScanAnswer;
}

test(
  "a scan through any node visits every key of the cluster once; a cursor from one node is continued by another",
  async () => {
    await using cluster = await startCluster({ size: 3, args: [...ONE_COPY] });
    const urls = cluster.urls;
    await waitForAgreement(urls, urls, 15_000);
    const keys = Array.from({ length: KEYS }, (_, i) => `scan-${i}`);
    const written = await inParallel(keys, 16, (key, i) => setKey(urls[i % urls.length]!, key, `value of ${key}`));
    expect(written.filter((answer) => answer.status !== 200)).toEqual([]);

    for (const url of urls) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: ScanAnswer = await scanPage(url, cursor);
        for (const entry of page.keys) {
          expect(entry.value).toBe(`value of ${entry.key}`);
          seen.push(entry.key);
        }
        cursor = page.next;
      } while (cursor !== null);
      expect(seen.length).toBe(KEYS);
      expect(seen.toSorted()).toEqual(keys.toSorted());
    }

    // Pages taken from each node in turn, the cursor handed on: still every key once.
    const seen: string[] = [];
    let cursor: string | null = null;
    let turn = 0;
    do {
      const page: ScanAnswer = await scanPage(urls[turn++ % urls.length]!, cursor);
      seen.push(...page.keys.map((entry) => entry.key));
      cursor = page.next;
    } while (cursor !== null);
    expect(seen.toSorted()).toEqual(keys.toSorted());
  },
  CLUSTER_TEST_TIMEOUT_MS * 2,
);
