// One gossip line used to cut a node out for good: an ACK2 naming a member with generation 2^53 - 1 (or a SYN
// naming the receiver itself) made it push its generation past what peers accept, so both sides saw each other
// dead and the victim acknowledged writes alone, even after a restart. Gossip from beyond now + skew is refused
// now, and a node refutes any view of itself that outranks its own.
import { describe, expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, readState, startCluster, waitForAgreement } from "../support/cluster.ts";
import { ack2, expectRefused, expectStaysConverged, HUGE, postGossip, TEN_YEARS_MS, WAIT_MAX_MS } from "./gossip-attacks.ts";
import { expectStillServes, setKey } from "./serving.ts";

/** Writes must reach two replicas: a node cut out of the others' rings could not acknowledge one alone. */
const W2 = ["-node.replication-factor", "3", "-node.write-quorum", "2"];

describe("forged generations and heartbeats", () => {
  test(
    "are refused with 400 clock_skew; the cluster stays converged, takes W=2 writes on every node, and a restarted node rejoins",
    async () => {
      await using cluster = await startCluster({ size: 3, args: W2 });
      const [a, b, c] = cluster.urls as [string, string, string];
      await waitForAgreement(cluster.urls, cluster.urls, WAIT_MAX_MS);
      const generationOf = async (at: string, of: string) => (await readState(at)).members.find((m) => m.url === of)!.generation;
      const bGeneration = await generationOf(a, b);

      const attacks: [string, string, unknown][] = [
        ["an ACK2 naming a member with generation 2^53 - 1", a, ack2(c, [{ nodeUrl: b, generation: HUGE, heartbeat: 0 }])],
        ["an ACK2 naming a member ten years ahead", a, ack2(c, [{ nodeUrl: b, generation: Date.now() + TEN_YEARS_MS, heartbeat: 0 }])],
        ["an ACK2 naming a member with a heartbeat ten years ahead", c, ack2(a, [{ nodeUrl: b, generation: bGeneration, heartbeat: TEN_YEARS_MS }])],
        ["a SYN naming the receiver itself with generation 2^53 - 1", b, { type: "syn", from: a, digests: [{ nodeUrl: b, generation: HUGE, heartbeat: 0 }] }],
        ["a SYN naming the receiver itself ten years ahead", b, { type: "syn", from: a, digests: [{ nodeUrl: b, generation: Date.now() + TEN_YEARS_MS, heartbeat: 5 }] }],
      ];
      for (const [name, target, message] of attacks) {
        const response = await postGossip(target, message);
        await expectRefused(response, "clock_skew").catch((error: unknown) => {
          throw new Error(`${name}: ${String(error)}`);
        });
      }
      // Nothing of them was taken in: every node still holds b under its own generation.
      for (const url of cluster.urls) expect(await generationOf(url, b)).toBe(bGeneration);

      let writes = 0;
      await expectStaysConverged(cluster.urls, cluster.timing, async () => {
        for (const url of cluster.urls) expect((await setKey(url, `w2-${writes++}`, "v")).status).toBe(200);
      });

      await cluster.node(1).kill9();
      await cluster.node(1).restart();
      await waitForAgreement(cluster.urls, cluster.urls, WAIT_MAX_MS);
      for (const url of cluster.urls) await expectStillServes(url);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "a forged view of a member that passes the bound is refuted by the member within rounds, and no one sees it dead",
    async () => {
      await using cluster = await startCluster({ size: 3, args: W2 });
      const [a, b, c] = cluster.urls as [string, string, string];
      await waitForAgreement(cluster.urls, cluster.urls, WAIT_MAX_MS);
      const member = (await readState(a)).members.find((m) => m.url === b)!;
      // A higher generation from the past is within the bound: it used to freeze b's heartbeat news everywhere.
      expect((await postGossip(a, ack2(c, [{ nodeUrl: b, generation: member.generation + 1, heartbeat: 0 }]))).status).toBe(200);
      expect((await postGossip(b, { type: "syn", from: a, digests: [{ nodeUrl: b, generation: member.generation + 2, heartbeat: 0 }] })).status).toBe(200);
      await expectStaysConverged(cluster.urls, cluster.timing);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
