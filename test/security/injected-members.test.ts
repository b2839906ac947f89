// Injected members: the member URL pattern used to accept credentials, port 0 or 99999, `*`, `;` and any host,
// and an injected member went into every ring at once: it received client writes, made writes fail until it was
// declared dead, and widened the dashboard's CSP. Member URLs must be canonical origins now, and a member named
// by someone else stays out of the ring until this node has gossiped with it itself.
import { describe, expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, startCluster, urlOf, waitForAgreement } from "../support/cluster.ts";
import { freePort } from "../support/free-port.ts";
import { ack2, expectRefused, expectStaysConverged, postGossip, WAIT_MAX_MS } from "./gossip-attacks.ts";
import { setKey } from "./serving.ts";

const BAD_URLS: [string, string][] = [
  ["credentials", "http://user:pass@127.0.0.1:9"],
  ["port 0", "http://127.0.0.1:0"],
  ["port 99999", "http://127.0.0.1:99999"],
  ["a wildcard host", "http://*:9"],
  ["a semicolon that would add a CSP directive", "http://127.0.0.1:9;script-src"],
  ["a wildcard label", "http://*.example.com"],
];

describe("injected members", () => {
  test(
    "with odd URLs are refused with 400; a valid one on a closed port never enters a ring, fails no write, never reaches the CSP",
    async () => {
      await using cluster = await startCluster({ size: 2 });
      const [a, b] = cluster.urls as [string, string];
      await waitForAgreement(cluster.urls, cluster.urls, WAIT_MAX_MS);
      const generation = Date.now() - 1000;

      for (const [name, url] of BAD_URLS) {
        const attacks = [
          postGossip(a, ack2(b, [{ nodeUrl: url, generation, heartbeat: 1 }])),
          postGossip(a, { type: "syn", from: b, digests: [{ nodeUrl: url, generation, heartbeat: 1 }] }),
          postGossip(a, ack2(url, [])),
        ];
        for (const response of await Promise.all(attacks)) {
          await expectRefused(response, "bad_request").catch((error: unknown) => {
            throw new Error(`a member URL with ${name}: ${String(error)}`);
          });
        }
      }

      // Valid, on 127.0.0.1, and nothing listens there: only the node's own probe could confirm it.
      const fake = urlOf(freePort());
      const entry = { nodeUrl: fake, generation, heartbeat: 1 };
      expect((await postGossip(a, ack2(b, [entry]))).status).toBe(200);
      const syn = await postGossip(b, { type: "syn", from: a, digests: [entry] });
      expect(syn.status).toBe(200);
      if (((await syn.json()) as { requests: string[] }).requests.includes(fake)) expect((await postGossip(b, ack2(a, [entry]))).status).toBe(200);

      let writes = 0;
      await expectStaysConverged(cluster.urls, cluster.timing, async () => {
        for (const url of cluster.urls) {
          expect((await setKey(url, `after-injection-${writes++}`, "v")).status).toBe(200);
          const page = await fetchNode(`${url}/dashboard`);
          await page.body?.cancel();
          const csp = page.headers.get("content-security-policy") ?? "";
          expect(csp).toContain(a);
          expect(csp).not.toContain(fake);
        }
      });
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
