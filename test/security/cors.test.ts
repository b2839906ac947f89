// CORS is opt-in: before, every public route answered Access-Control-Allow-Origin: *, so any site could page out the
// whole database through a visitor's browser. Now only the cluster's members (their dashboards) and CORS_ORIGINS are.
import { expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, REQUEST_TIMEOUT_MS, startCluster, waitForAgreement } from "../support/cluster.ts";

test(
  "a page on another site cannot read keys or cluster routes; a member's dashboard still can",
  async () => {
    await using cluster = await startCluster({ size: 2 });
    const [a, b] = [cluster.node(0), cluster.node(1)];
    await waitForAgreement(cluster.urls, cluster.urls, CLUSTER_TEST_TIMEOUT_MS / 2);
    const ask = (path: string, origin: string) => fetch(`${a.url}${path}`, { headers: { origin }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

    for (const path of ["/api/v1/keys", "/api/v1/get/k", "/api/v1/cluster/state", "/api/v1/cluster/ring"]) {
      const evil = await ask(path, "http://evil.example");
      expect(evil.status).toBe(403);
      expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    }
    const fromMember = await ask("/api/v1/keys", b.url);
    expect(fromMember.status).toBe(200);
    expect(fromMember.headers.get("access-control-allow-origin")).toBe(b.url);
  },
  CLUSTER_TEST_TIMEOUT_MS,
);
