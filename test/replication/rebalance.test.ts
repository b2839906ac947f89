// Rebalancing across real processes: after a join, a graceful leave or a death, every key is on its RF replicas again without client action.
import { describe, expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, ONE_COPY, readRing, removeMember, startCluster, waitForAgreement, waitForDeath, waitUntil } from "../support/cluster.ts";
import {
  fetchInternal,
  fullyReplicated,
  getKey,
  inParallel,
  interruptOnExit,
  ownRecord,
  readReplicas,
  readReplication,
  replicasOn,
  replicationArgs,
  REPLICATION_TIMING,
  requestLeave,
  setKey,
  TEST_CLUSTER_SECRET,
} from "../support/replication.ts";

const KEYS = 300;
const CONCURRENCY = 8;
const ANTI_ENTROPY_MS = 500;
const FACTOR = 3;
/** Bound on a wait for data to move; a healthy run takes a second or two. */
const MOVE_WAIT_MS = 20_000;
const AGREE_WAIT_MS = 15_000;
/** A leaving node exits once its data is handed off: a few requests of a few hundred records. */
const LEAVE_EXIT_MS = 20_000;

const keys = Array.from({ length: KEYS }, (_, i) => `moving-${i}`);
const valueOf = (key: string) => `value of ${key}`;

async function writeAll(urls: readonly string[]): Promise<void> {
  const answers = await inParallel(keys, CONCURRENCY, (key, i) => setKey(urls[i % urls.length]!, key, valueOf(key)));
  expect(answers.filter((a) => a.status !== 200)).toEqual([]);
}

/** Keys whose replicas (as `nodeUrl` lists them) are not exactly FACTOR live holders of one version. */
async function underReplicated(nodeUrl: string, expected: readonly string[]): Promise<string[]> {
  const listed = await inParallel(keys, CONCURRENCY, async (key) => ({ key, replicas: await readReplicas(nodeUrl, key) }));
  return listed
    .filter(({ replicas }) => !fullyReplicated(replicas, FACTOR, false) || !replicas.every((r) => expected.includes(r.nodeUrl)))
    .map(({ key, replicas }) => `${key}: ${JSON.stringify(replicas.map((r) => [r.nodeUrl, r.holds, r.version?.wallMs ?? null, r.error ?? ""]))}`);
}

function waitForFullReplication(nodeUrls: readonly string[]) {
  return waitUntil(
    `every key has ${FACTOR} replicas among ${nodeUrls.join(", ")} holding its newest version`,
    async () => (await Promise.all(nodeUrls.map((url) => underReplicated(url, nodeUrls)))).flat(),
    (missing) => missing.length === 0,
    MOVE_WAIT_MS,
  );
}

async function expectReadsEverywhere(nodeUrls: readonly string[]): Promise<void> {
  const reads = await inParallel(keys, CONCURRENCY, async (key, i) => ({ key, answer: await getKey(nodeUrls[i % nodeUrls.length]!, key) }));
  expect(reads.filter(({ key, answer }) => answer.value !== valueOf(key)).map(({ key, answer }) => `${key}: ${answer.status} ${answer.text}`)).toEqual([]);
}

/** Keys not held by exactly their replicas on the ring of `nodeUrls` (a record or tombstone counts as held). */
async function misplaced(nodeUrls: readonly string[]): Promise<string[]> {
  const found = await inParallel(keys, CONCURRENCY, async (key) => {
    const held = (await Promise.all(nodeUrls.map(async (url) => ((await ownRecord(url, key)) === null ? [] : [url])))).flat().sort();
    const want = replicasOn(nodeUrls, key).sort();
    return JSON.stringify(held) === JSON.stringify(want) ? [] : [`${key}: held by ${held.join(" ")}; replicas ${want.join(" ")}`];
  });
  return found.flat();
}

describe("rebalancing with RF=3 as the ring changes", () => {
  test("a node that joins receives the keys it now replicates, and the node each key moved off drops it", async () => {
    await using cluster = await startCluster({ size: 3, timing: REPLICATION_TIMING, args: replicationArgs(ANTI_ENTROPY_MS) });
    await using _stop = interruptOnExit(cluster);
    await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
    await writeAll(cluster.urls);

    const newcomer = await cluster.add(cluster.node(0).url);
    const all = cluster.urls;
    await waitForAgreement(all, all, AGREE_WAIT_MS);
    const owned = keys.filter((key) => replicasOn(all, key).includes(newcomer.url));
    // With four nodes and three copies, the newcomer replicates about three quarters of the keys.
    expect(owned.length).toBeGreaterThan(KEYS / 2);
    const { elapsedMs } = await waitUntil(
      `the newcomer holds all ${owned.length} keys it replicates`,
      async () => (await inParallel(owned, CONCURRENCY, async (key) => (await ownRecord(newcomer.url, key))?.value === valueOf(key))).filter((held) => !held).length,
      (missing) => missing === 0,
      MOVE_WAIT_MS,
    );
    console.log(`join: the newcomer held its ${owned.length} of ${KEYS} keys ${Math.round(elapsedMs)} ms after the cluster agreed`);

    // Each key ends on exactly its three replicas: whoever it moved off dropped it once the newcomer confirmed.
    await waitUntil(`every key is held by exactly its ${FACTOR} replicas`, () => misplaced(all), (wrong) => wrong.length === 0, MOVE_WAIT_MS);
    await waitForFullReplication(all);
    await expectReadsEverywhere(all);
  }, CLUSTER_TEST_TIMEOUT_MS * 2);

  test("a record pushed to a node that does not replicate its key (a stray, perhaps its only copy) reaches its replicas and leaves that node", async () => {
    await using cluster = await startCluster({ size: 4, timing: REPLICATION_TIMING, args: replicationArgs(ANTI_ENTROPY_MS) });
    await using _stop = interruptOnExit(cluster);
    const all = cluster.urls;
    await waitForAgreement(all, all, AGREE_WAIT_MS);
    // What a peer whose ring still differed would do: hand a node a record it does not replicate.
    const key = keys.find((k) => !replicasOn(all, k).includes(all[0]!))!;
    const record = { key, value: "only here", version: { wallMs: Date.now(), counter: 0, node: all[0]! }, tombstone: false, expiresAtMs: null };
    const response = await fetchInternal(`${all[0]}/api/v1/replica/put`, { method: "POST", body: JSON.stringify({ records: [record] }) });
    expect(response.status).toBe(200);

    const { elapsedMs } = await waitUntil(
      `${key} moved from ${all[0]} to its replicas`,
      async () => ({ stray: await ownRecord(all[0]!, key), replicas: await readReplicas(all[1]!, key) }),
      ({ stray, replicas }) => stray === null && fullyReplicated(replicas, FACTOR, false) && JSON.stringify(replicas[0]?.version) === JSON.stringify(record.version),
      MOVE_WAIT_MS,
    );
    console.log(`stray: on its replicas and gone from the node it was pushed to ${Math.round(elapsedMs)} ms later`);
    expect((await getKey(all[2]!, key)).value).toBe("only here");
  }, CLUSTER_TEST_TIMEOUT_MS * 2);

  test("a node that leaves gracefully hands its data off and exits 0; every key has three replicas on the rest", async () => {
    await using cluster = await startCluster({ size: 4, timing: REPLICATION_TIMING, args: replicationArgs(ANTI_ENTROPY_MS) });
    await using _stop = interruptOnExit(cluster);
    await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
    await writeAll(cluster.urls);

    const leaver = cluster.node(1);
    const rest = cluster.urls.filter((url) => url !== leaver.url);
    const started = performance.now();
    const response = await requestLeave(leaver.url);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: "leaving", nodeUrl: leaver.url });
    const exited = await Promise.race([leaver.process.exited, Bun.sleep(LEAVE_EXIT_MS).then(() => "still running")]);
    expect(exited).toBe(0);
    const leftMs = performance.now() - started;

    const { elapsedMs } = await waitForFullReplication(rest);
    console.log(`leave: the node exited ${Math.round(leftMs)} ms after the request; every key had three replicas ${Math.round(elapsedMs)} ms after that`);
    await expectReadsEverywhere(rest);
  }, CLUSTER_TEST_TIMEOUT_MS * 2);

  test("a node killed for good: dead, it keeps its place in every ring; once removed, every key has three live replicas again", async () => {
    await using cluster = await startCluster({ size: 4, timing: REPLICATION_TIMING, args: replicationArgs(ANTI_ENTROPY_MS) });
    await using _stop = interruptOnExit(cluster);
    await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
    await writeAll(cluster.urls);

    const victim = cluster.node(3);
    const rest = cluster.urls.filter((url) => url !== victim.url);
    await victim.kill9();
    const dead = await waitForDeath(rest, victim.url, AGREE_WAIT_MS);
    // Dead is not gone: every ring still holds it, and nothing was streamed for it.
    for (const url of rest) expect((await readRing(url)).allNodes).toEqual(cluster.urls);
    expect((await Promise.all(rest.map(readReplication))).map((r) => r.rebalance.streamed)).toEqual(rest.map(() => 0));
    await expectReadsEverywhere(rest);

    expect((await removeMember(rest[0]!, victim.url, TEST_CLUSTER_SECRET)).status).toBe(200);
    const removed = await waitForAgreement(rest, rest, AGREE_WAIT_MS);
    const { elapsedMs } = await waitForFullReplication(rest);
    const streamed = (await Promise.all(rest.map(readReplication))).map((r) => r.rebalance.streamed);
    console.log(
      `death: the rest held the victim dead ${Math.round(dead.elapsedMs)} ms after the kill; removed, it left every ring within ${Math.round(removed.elapsedMs)} ms; ` +
        `every key had three replicas ${Math.round(elapsedMs)} ms after that (streamed ${streamed.join("/")})`,
    );
    await expectReadsEverywhere(rest);
  }, CLUSTER_TEST_TIMEOUT_MS * 2);
});

describe("a graceful leave at REPLICATION_FACTOR=1", () => {
  test("while the only other node is down: exits 0 warning of the keys it keeps, drops none, and once both are back every key is served", async () => {
    await using cluster = await startCluster({ size: 2, backend: "sqlite", timing: REPLICATION_TIMING, args: ["-cluster.secret", TEST_CLUSTER_SECRET, "-node.anti-entropy-interval-ms", String(ANTI_ENTROPY_MS), ...ONE_COPY] });
    await using _stop = interruptOnExit(cluster);
    await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
    const [leaver, other] = [cluster.node(0), cluster.node(1)];
    const answers = await inParallel(keys, CONCURRENCY, (key) => setKey(leaver.url, key, valueOf(key)));
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);

    // Down, and held dead: the keys the leaver owns have nowhere to go, and no other copy.
    other.process.kill("SIGSTOP");
    await waitForDeath([leaver.url], other.url, AGREE_WAIT_MS);
    expect((await requestLeave(leaver.url)).status).toBe(202);
    const exited = await Promise.race([leaver.process.exited, Bun.sleep(LEAVE_EXIT_MS).then(() => "still running")]);
    expect(exited).toBe(0);
    const lines = leaver.stdout.split("\n").filter((line) => line.includes("hand"));
    expect(lines.some((line) => line.includes('"data handed off"'))).toBe(false);
    const warning = lines.map((line) => JSON.parse(line) as { level: string; message: string; keysLeft?: number }).find((line) => line.message.startsWith("hand-off incomplete"));
    expect(warning?.level).toBe("warn");
    expect(warning?.keysLeft).toBeGreaterThan(0);

    // Back: the leaver rejoins with the keys it kept, and strays move to their owner on the anti-entropy beat.
    other.process.kill("SIGCONT");
    await leaver.restart();
    await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
    await waitUntil("every key is served", () => inParallel(keys, CONCURRENCY, (key) => getKey(other.url, key)), (reads) => reads.every((read, i) => read.value === valueOf(keys[i]!)), MOVE_WAIT_MS);
  }, CLUSTER_TEST_TIMEOUT_MS * 2);
});

describe("every node stopped at once with SIGTERM (docker compose down, Ctrl-C on the cluster script)", () => {
  test("drops nothing: each exits 0, and restarted, the cluster serves every key", async () => {
    await using cluster = await startCluster({ size: 3, backend: "sqlite", timing: REPLICATION_TIMING, args: replicationArgs(ANTI_ENTROPY_MS) });
    await using _stop = interruptOnExit(cluster);
    await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
    await writeAll(cluster.urls);

    for (const node of cluster.nodes) node.process.kill("SIGTERM");
    const exits = await Promise.all(cluster.nodes.map((node) => Promise.race([node.process.exited, Bun.sleep(LEAVE_EXIT_MS).then(() => "still running")])));
    expect(exits).toEqual([0, 0, 0]);

    await Promise.all(cluster.nodes.map((node) => node.restart()));
    await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
    await expectReadsEverywhere(cluster.urls);
  }, CLUSTER_TEST_TIMEOUT_MS * 2);
});
