// A member flood: 1,024 invented members in one ~100 KB request used to fill MEMBERS_MAX on every node, so a real
// new node was never admitted. One message introduces a few unconfirmed members now, they are never passed on,
// and they are forgotten fast; a real node still joins and takes its share of the data.
import { describe, expect, test } from "bun:test";
import { MEMBERS_MAX } from "../../src/membership/member-table.ts";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, readState, startCluster, waitForAgreement } from "../support/cluster.ts";
import { ack2, expectStaysConverged, postGossip, WAIT_MAX_MS } from "./gossip-attacks.ts";
import { setKey } from "./serving.ts";

/** Ports of the invented members: 127.0.0.1 only, high enough that no test node is likely to hold one. */
const FAKE_PORT_FIRST = 50_000;
const KEYS = 30;

describe("a flood of invented members", () => {
  test(
    "in one ACK2 admits none into any table or ring, and a real new node still joins and takes its data",
    async () => {
      await using cluster = await startCluster({ size: 3 });
      await waitForAgreement(cluster.urls, cluster.urls, WAIT_MAX_MS);
      const [a, b] = cluster.urls as [string, string];
      const generation = Date.now() - 1000;
      const fakes = Array.from({ length: MEMBERS_MAX }, (_, i) => ({ nodeUrl: `http://127.0.0.1:${FAKE_PORT_FIRST + i}`, generation, heartbeat: 1 }));
      const flood = JSON.stringify(ack2(b, fakes));
      expect(flood.length).toBeGreaterThan(90_000);
      // Taken as gossip (200), but at most a few of its members are even considered.
      expect((await postGossip(a, ack2(b, fakes))).status).toBe(200);

      // No node lists one, and none is passed on, for longer than a flooded node takes to notice them dead.
      await expectStaysConverged(cluster.urls, cluster.timing);

      const newcomer = await cluster.add(a);
      const all = cluster.urls;
      const joined = await waitForAgreement(all, all, WAIT_MAX_MS);
      console.log(`after the flood a new node was in every ring ${Math.round(joined.elapsedMs)} ms after it answered`);
      for (const url of all) expect((await readState(url)).members).toHaveLength(all.length);

      for (let i = 0; i < KEYS; i++) expect((await setKey(b, `after-flood-${i}`, "v")).status).toBe(200);
      const health = (await (await fetchNode(`${newcomer.url}/api/v1/health`)).json()) as { storage: { keys: number } };
      expect(health.storage.keys).toBeGreaterThan(0);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
