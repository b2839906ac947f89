// One gossip line used to cut a node out for good: an ACK2 naming a member with generation 2^53 - 1 (or a SYN
// naming the receiver itself) made it push its generation past what peers accept, so both sides saw each other
// dead and the victim acknowledged writes alone, even after a restart. News of a member from beyond now + skew is
// now left out on its own (a sender's own refuses its message whole), and a node outlives any view of itself that
// outranks its own without ever running ahead of its own clock.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CLUSTER_TEST_TIMEOUT_MS, freePorts, readState, readViews, startCluster, TEST_TIMING, timingArgs, urlOf, waitForAgreement } from "../support/cluster.ts";
import { startNode } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";
import { ack2, expectRefused, expectStaysConverged, HUGE, clockOffsetEnv, LIBFAKETIME, postGossip, TEN_YEARS_MS, WAIT_MAX_MS } from "./gossip-attacks.ts";
import { expectStillServes, setKey } from "./serving.ts";

/** Writes must reach two replicas: a node cut out of the others' rings could not acknowledge one alone. */
const W2 = ["-node.replication-factor", "3", "-node.write-quorum", "2"];
/** How far ahead of now the sustained forgery puts its member: within the default 500 ms bound, near its edge. */
const EDGE_MS = 450;
const FORGE_EVERY_MS = 100;
/**
 * One node's wall clock runs this far behind the others' (libfaketime): well within MAX_CLOCK_SKEW_MS, as real
 * clocks differ, yet the forged view lies beyond that node's bound for 250 ms after each forgery, so always.
 */
const SLOW_MS = 300;
/** The sustained forgery lasts this many dead-after periods: a node cut out by it would be dead by then. */
const FORGERY_DEAD_PERIODS = 3;

const generationsAt = async (url: string) => Object.fromEntries((await readState(url)).members.map((m) => [m.url, m.generation]));

describe("forged generations and heartbeats", () => {
  beforeAll(() => {
    if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: apt-get install faketime (.ci/run does)`);
  });

  test(
    "news of another member from beyond the bound is left out, a sender's own gets 400 clock_skew; the cluster stays converged, takes W=2 writes on every node, and a restarted node rejoins",
    async () => {
      await using cluster = await startCluster({ size: 3, args: W2 });
      const [a, b, c] = cluster.urls as [string, string, string];
      await waitForAgreement(cluster.urls, cluster.urls, WAIT_MAX_MS);
      const generations = await generationsAt(a);
      const bGeneration = generations[b]!;

      const leftOut: [string, string, unknown][] = [
        ["an ACK2 naming a member with generation 2^53 - 1", a, ack2(c, [{ nodeUrl: b, generation: HUGE, heartbeat: 0 }])],
        ["an ACK2 naming a member ten years ahead", a, ack2(c, [{ nodeUrl: b, generation: Date.now() + TEN_YEARS_MS, heartbeat: 0 }])],
        ["an ACK2 naming a member with a heartbeat ten years ahead", c, ack2(a, [{ nodeUrl: b, generation: bGeneration, heartbeat: TEN_YEARS_MS }])],
        ["a SYN naming the receiver itself with generation 2^53 - 1", b, { type: "syn", from: a, digests: [{ nodeUrl: b, generation: HUGE, heartbeat: 0 }] }],
        ["a SYN naming the receiver itself ten years ahead", b, { type: "syn", from: a, digests: [{ nodeUrl: b, generation: Date.now() + TEN_YEARS_MS, heartbeat: 5 }] }],
      ];
      const refusedWhole: [string, string, unknown][] = [
        ["an ACK2 whose sender names itself with generation 2^53 - 1", a, ack2(c, [{ nodeUrl: c, generation: HUGE, heartbeat: 0 }, { nodeUrl: b, generation: bGeneration, heartbeat: 1 }])],
        ["a SYN whose sender names itself ten years ahead", b, { type: "syn", from: a, digests: [{ nodeUrl: a, generation: Date.now() + TEN_YEARS_MS, heartbeat: 0 }] }],
        ["a SYN in the receiver's own name naming it with generation 2^53 - 1", b, { type: "syn", from: b, digests: [{ nodeUrl: b, generation: HUGE, heartbeat: 0 }] }],
      ];
      for (const [name, target, message] of leftOut) {
        expect({ name, status: (await postGossip(target, message)).status }).toEqual({ name, status: 200 });
      }
      for (const [name, target, message] of refusedWhole) {
        await expectRefused(await postGossip(target, message), "clock_skew").catch((error: unknown) => {
          throw new Error(`${name}: ${String(error)}`);
        });
      }
      // Nothing of them was taken in: every node still holds every member under its own generation.
      for (const url of cluster.urls) expect(await generationsAt(url)).toEqual(generations);

      let writes = 0;
      await expectStaysConverged(cluster.urls, cluster.timing, async () => {
        for (const url of cluster.urls) expect((await setKey(url, `w2-${writes++}`, "v")).status).toBe(200);
      });
      for (const url of cluster.urls) expect(await generationsAt(url)).toEqual(generations);

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

  test(
    `a forged view of a member ${EDGE_MS} ms ahead, sent every ${FORGE_EVERY_MS} ms for ${FORGERY_DEAD_PERIODS} dead-after periods, never makes a node see another dead, though one node's clock is ${SLOW_MS} ms behind`,
    async () => {
      await using dir = await tempDir();
      const [pa, pb, pc] = freePorts(3) as [number, number, number];
      const [a, b, c] = [urlOf(pa), urlOf(pb), urlOf(pc)];
      const start = (port: number, name: string, peers: string[], env: Record<string, string> = {}) =>
        startNode({ dataDir: join(dir.path, name), backend: "memory", port, args: [...timingArgs(TEST_TIMING), "-node.peers", peers.join(","), ...W2], env: { CLUSTER_SECRET: "", ...env } });
      await using _a = await start(pa, "a", [b, c]);
      await using _b = await start(pb, "b", [a]);
      await using _c = await start(pc, "c", [a], clockOffsetEnv(-SLOW_MS));
      const urls = [a, b, c].sort();
      await waitForAgreement(urls, urls, WAIT_MAX_MS);
      const bGeneration = (await generationsAt(a))[b]!;

      let forging = true;
      const statuses: number[] = [];
      const forger = (async () => {
        while (forging) {
          // This machine's clock is a's: the forgery sits EDGE_MS ahead of a, within a's bound, beyond c's.
          const response = await postGossip(a, ack2(c, [{ nodeUrl: b, generation: bGeneration, heartbeat: Date.now() + EDGE_MS - bGeneration }]));
          statuses.push(response.status);
          await response.body?.cancel();
          await Bun.sleep(FORGE_EVERY_MS);
        }
      })();
      const sightings = new Set<string>();
      try {
        const started = performance.now();
        while (performance.now() - started < FORGERY_DEAD_PERIODS * TEST_TIMING.deadAfterMs) {
          const views = await readViews(urls);
          for (const state of views.states) {
            for (const m of state.members) if (m.state === "dead") sightings.add(`${state.nodeUrl} held ${m.url} dead`);
            if (state.peers.join() !== urls.join()) sightings.add(`${state.nodeUrl} listed ${state.peers.join(", ")}`);
          }
          if (views.rings.some((ring) => ring.shape !== views.rings[0]!.shape)) sightings.add("the rings differed");
          await Bun.sleep(TEST_TIMING.intervalMs / 2);
        }
      } finally {
        forging = false;
        await forger;
      }
      expect([...sightings]).toEqual([]);
      // Every forgery was within a's bound, so a took each in: the edge case, not a refusal.
      expect(statuses.length).toBeGreaterThan((FORGERY_DEAD_PERIODS * TEST_TIMING.deadAfterMs) / FORGE_EVERY_MS / 2);
      expect(new Set(statuses)).toEqual(new Set([200]));
      await waitForAgreement(urls, urls, WAIT_MAX_MS);
      for (const url of urls) expect((await setKey(url, `after-${url}`, "v")).status).toBe(200);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
