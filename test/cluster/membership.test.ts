// Gossip membership across real node processes: convergence from one seed each, joins, kill -9 to dead, restarts, seed retry.
import { describe, expect, test } from "bun:test";
import { buildRing, ownerOf } from "../../src/ring/ring.ts";
import { freePort } from "../support/free-port.ts";
import { CLUSTER_TEST_TIMEOUT_MS,
  fetchNode,
  readGossip,
  readRing,
  readState,
  removeMember,
  readViews,
  startCluster,
  TEST_TIMING,
  urlOf,
  waitForAgreement,
  waitForDeath,
  waitUntil,
  type MemberOut,
  type StateOut, ONE_COPY } from "../support/cluster.ts";

const { intervalMs, staleAfterMs, deadAfterMs } = TEST_TIMING;
/**
 * Rounds a started cluster may take to agree on membership and ring. Gossip spreads news to N nodes
 * in about log2(N) rounds, and an idle machine takes 2 to 3; the rest is room for a loaded 2-core
 * machine, where cold processes miss gossip timeouts (7 rounds seen at a load average of 7).
 */
const CONVERGE_ROUNDS_MAX = 15;
/** Bound on a wait that should never come near it; it only keeps a broken cluster from hanging the suite. */
const WAIT_MAX_MS = 15_000;
/** Time between a node changing state and the test's poll seeing it: a poll interval and its requests on a loaded machine. */
const POLL_SLACK_MS = 100;
/**
 * A node declares a member dead once it has heard nothing new of it for the dead timeout: it must do so
 * within a round for its detector to run, plus two of timer jitter on a loaded machine. What it reports
 * as the member's silence (lag) when first seen dead also grows until the test's poll reads it.
 */
const DEAD_LAG_BOUND_MS = deadAfterMs + 3 * intervalMs + POLL_SLACK_MS;
/** News (a heartbeat, a removal) reaches every node of a small cluster within a few rounds (about log2 of its size). */
const SPREAD_ROUNDS_MAX = 3;

function memberOf(state: StateOut, url: string): MemberOut | undefined {
  return state.members.find((member) => member.url === url);
}

describe("a cluster started with one seed per node", () => {
  test("converges: every node lists all four and reports the same ring within a few rounds", async () => {
    await using cluster = await startCluster({ size: 4 });
    const urls = cluster.urls;

    const { elapsedMs } = await waitForAgreement(urls, urls, CONVERGE_ROUNDS_MAX * intervalMs);
    console.log(`four nodes started at once agreed ${Math.round(elapsedMs)} ms (${(elapsedMs / intervalMs).toFixed(1)} rounds) after all answered`);

    const { states, rings } = await readViews(urls);
    for (const state of states) {
      expect(state.peers).toEqual(urls);
      expect(state.totalNodes).toBe(4);
      expect(state.members.map((member) => member.url)).toEqual(urls);
    }
    for (const ring of rings) {
      expect(ring.allNodes).toEqual(urls);
      expect(ring.shape).toBe(rings[0]!.shape);
    }
  }, CLUSTER_TEST_TIMEOUT_MS);

  test("a fifth node joins every ring; kill -9 makes it stale then dead everywhere yet it keeps its ranges; a removal takes them; a restart brings it back with a higher generation", async () => {
    // sqlite, so the restarted node reopens the same file in the same data dir.
    await using cluster = await startCluster({ size: 4, backend: "sqlite", args: ONE_COPY });
    await waitForAgreement(cluster.urls, cluster.urls, WAIT_MAX_MS);

    await cluster.add(cluster.node(0).url);
    const all = cluster.urls;
    const joined = await waitForAgreement(all, all, CONVERGE_ROUNDS_MAX * intervalMs);
    console.log(`the fifth node was in every ring ${Math.round(joined.elapsedMs)} ms after it started`);

    const victim = cluster.node(2);
    const others = all.filter((url) => url !== victim.url);
    const oldGeneration = memberOf(await readState(others[0]!), victim.url)?.generation;
    expect(oldGeneration).toBeGreaterThan(0);

    // Every other node is watched for the victim's states and the silence (lag) it reports when it first shows each.
    const seen = new Map(others.map((url) => [url, { staleLagMs: undefined as number | undefined, deadLagMs: undefined as number | undefined }]));
    await victim.kill9();
    await waitUntil(
      "every other node marks the killed node stale, then dead",
      async () => {
        for (const view of await Promise.all(others.map(readGossip))) {
          const record = seen.get(view.node_url)!;
          const peer = view.peer_details?.find((detail) => detail.url === victim.url);
          if (peer?.status === "stale") record.staleLagMs ??= peer.lag;
          if (peer?.status === "dead") record.deadLagMs ??= peer.lag;
        }
        return [...seen.values()];
      },
      (records) => records.every((record) => record.deadLagMs !== undefined),
      WAIT_MAX_MS,
    );
    for (const [url, record] of seen) {
      console.log(`${url}: stale seen at a silence of ${record.staleLagMs} ms, dead at ${record.deadLagMs} ms (bound ${DEAD_LAG_BOUND_MS})`);
      expect(record.staleLagMs).toBeGreaterThanOrEqual(staleAfterMs);
      expect(record.staleLagMs).toBeLessThan(deadAfterMs);
      expect(record.deadLagMs).toBeGreaterThanOrEqual(deadAfterMs);
      expect(record.deadLagMs).toBeLessThanOrEqual(DEAD_LAG_BOUND_MS);
    }
    // Liveness is not ownership: the dead node is still in every ring, and a key it owns (one copy) is refused, unapplied.
    const { rings } = await readViews(others);
    for (const ring of rings) expect(ring.allNodes).toEqual(all);
    const fullRing = buildRing(all, rings[0]!.virtualNodesPerNode);
    const smallRing = buildRing(others, rings[0]!.virtualNodesPerNode);
    const movedKey = Array.from({ length: 1000 }, (_, i) => `moved-${i}`).find((key) => ownerOf(fullRing, key) === victim.url)!;
    const successor = ownerOf(smallRing, movedKey)!;
    const writeThrough = others.find((url) => url !== successor)!;
    const write = () => fetchNode(`${writeThrough}/api/v1/set`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: movedKey, value: "moved" }) });
    const refused = await write();
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain("the write was not applied");

    // Removed through one node, it leaves every ring as gossip spreads the removal, and its ranges move.
    const removedAtMs = performance.now();
    expect((await removeMember(others[0]!, victim.url, "")).status).toBe(200);
    const out = await waitForAgreement(others, others, SPREAD_ROUNDS_MAX * intervalMs + WAIT_MAX_MS);
    console.log(`the removed node was out of every ring ${Math.round(performance.now() - removedAtMs)} ms after the removal`);
    for (const state of out.value.states) expect(memberOf(state, victim.url)?.removed).toBe(true);
    expect(await (await write()).text()).toBe("OK");
    for (const url of others) {
      expect(await (await fetchNode(`${url}/api/v1/get/${encodeURIComponent(movedKey)}`)).json()).toEqual({ value: "moved", nodeUrl: successor });
    }

    await victim.restart();
    const back = await waitForAgreement(all, all, CONVERGE_ROUNDS_MAX * intervalMs);
    console.log(`the restarted node was back in every ring ${Math.round(back.elapsedMs)} ms after it answered`);
    for (const state of back.value.states) {
      const member = memberOf(state, victim.url);
      expect(member?.state).toBe("active");
      expect(member!.generation).toBeGreaterThan(oldGeneration!);
    }
  }, CLUSTER_TEST_TIMEOUT_MS);

  test("a node that restarts while a member is dead builds the cluster's ring, the dead member in it, before it serves", async () => {
    await using cluster = await startCluster({ size: 4, backend: "sqlite", args: ONE_COPY });
    await waitForAgreement(cluster.urls, cluster.urls, WAIT_MAX_MS);
    const all = cluster.urls;
    // Not the first node: it has no seed, and a node without seeds is a cluster of its own when it starts.
    const [, restarted, , dead] = cluster.nodes;
    const others = all.filter((url) => url !== dead!.url);
    await dead!.kill9();
    await waitForDeath(others, dead!.url, WAIT_MAX_MS);
    await restarted!.interrupt();
    await restarted!.restart();
    // The moment it coordinates, its ring is everyone's: a key the dead member owns is refused, not placed elsewhere.
    const ring = await readRing(restarted!.url);
    const deadKey = Array.from({ length: 1000 }, (_, i) => `owned-by-dead-${i}`).find((key) => ownerOf(buildRing(all, ring.virtualNodesPerNode), key) === dead!.url)!;
    const { value: answer } = await waitUntil(
      "the restarted node coordinates",
      async () => {
        const response = await fetchNode(`${restarted!.url}/api/v1/set`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: deadKey, value: "v" }) });
        return { status: response.status, text: await response.text() };
      },
      (answer) => !answer.text.includes("still joining"),
      WAIT_MAX_MS,
    );
    expect(answer.status).toBe(503);
    expect(answer.text).toContain("the write was not applied");
    expect((await readRing(restarted!.url)).allNodes).toEqual(all);
    expect(memberOf(await readState(restarted!.url), dead!.url)?.state).toBe("dead");
  }, CLUSTER_TEST_TIMEOUT_MS);

  test("a node started before its seed joins by itself once the seed is up, and gossip reports a healthy cluster", async () => {
    const seedPort = freePort();
    const seedUrl = urlOf(seedPort);
    await using cluster = await startCluster({ size: 0 });
    const early = await cluster.add(seedUrl);
    // Some rounds go by with the seed down (the heartbeat is the time since the start), so the join below can only come from a retry.
    await waitUntil("the early node has gossiped a few rounds alone", () => readGossip(early.url), (view) => view.node_heartbeat >= 3 * intervalMs, WAIT_MAX_MS);
    const alone = await readGossip(early.url);
    expect(alone).toMatchObject({ status: "standalone", cluster_health: "N/A", total_peers: 0 });

    // The seed knows no one; only the early node's retries can bring the two together.
    await cluster.add(undefined, seedPort);
    await cluster.add(early.url);
    const all = cluster.urls;
    expect(all).toContain(seedUrl);
    await waitForAgreement(all, all, CONVERGE_ROUNDS_MAX * intervalMs);

    // Health needs every peer active on every node; a round that ran late may briefly show one stale.
    const healthy = await waitUntil(
      "every node reports a healthy cluster",
      () => Promise.all(all.map(readGossip)),
      (views) => views.every((view) => view.cluster_health === "healthy"),
      CONVERGE_ROUNDS_MAX * intervalMs,
    );
    for (const view of healthy.value) {
      expect(view.convergence_rate).toBe(1);
      expect(view.total_peers).toBe(2);
      expect(view.active_peers).toBe(2);
      expect(view.stale_peers).toBe(0);
      expect(view.dead_peers).toBe(0);
      expect(view.peer_details?.map((peer) => peer.url)).toEqual(all.filter((url) => url !== view.node_url));
      for (const peer of view.peer_details ?? []) {
        expect(peer.status).toBe("active");
        expect(peer.heartbeat).toBeGreaterThan(0);
      }
    }
  }, CLUSTER_TEST_TIMEOUT_MS);
});
