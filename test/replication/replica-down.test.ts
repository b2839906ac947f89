// A replica down under RF=3, W=2, R=2 across real processes: the others keep serving, and hints, rebalancing or anti-entropy bring it back up to date.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdir, rm } from "node:fs/promises";
import { storePath } from "../../src/store/open-backend.ts";
import { SqliteBackend } from "../../src/store/sqlite.ts";
import { fromWire, type WireRecord } from "../../src/node/record-wire.ts";
import { CLUSTER_TEST_TIMEOUT_MS, readRing, startCluster, waitForAgreement, waitForDeath, waitUntil, type ClusterTiming } from "../support/cluster.ts";
import { delKey, getKey, inParallel, type Answer, interruptOnExit, ownRecord, readReplication, replicationArgs, REPLICATION_TIMING, setKey } from "../support/replication.ts";

/** Dead only after a minute: a killed replica stays active or stale to the others for the whole test. */
const STAYS_IN_RING: ClusterTiming = { ...REPLICATION_TIMING, deadAfterMs: 60_000 };
/** The longest interval the setting allows: anti-entropy never runs within a test, so what repairs is something else. */
const ANTI_ENTROPY_OFF_MS = 3_600_000;
const ANTI_ENTROPY_MS = 500;
/** The shortest interval the setting allows: a full recount of the digests takes 512 intervals (~51 s). */
const ANTI_ENTROPY_FAST_MS = 100;
/** A full recount and the anti-entropy round after it, with room for a loaded machine. */
const RECOUNT_WAIT_MS = 90_000;
/** Keys written before the replica goes down, and the share of them overwritten and deleted while it is down. */
const KEYS_BEFORE = 60;
const OVERWRITTEN = 30;
const DELETED = 10;
/** New keys written while it is down. */
const KEYS_DURING = 60;
const CONCURRENCY = 8;
/** Bound on every wait for a repair; a healthy run takes a few seconds at most. */
const REPAIR_WAIT_MS = 20_000;
const AGREE_WAIT_MS = 15_000;

const keyOf = (i: number) => `down-${i}`;

/** What every key should read after both phases: a value, or undefined when deleted. */
function expectedAfterDowntime(): Map<string, string | undefined> {
  const expected = new Map<string, string | undefined>();
  for (let i = 0; i < KEYS_BEFORE; i++) expected.set(keyOf(i), `v1 of ${keyOf(i)}`);
  for (let i = 0; i < OVERWRITTEN; i++) expected.set(keyOf(i), `v2 of ${keyOf(i)}`);
  for (let i = OVERWRITTEN; i < OVERWRITTEN + DELETED; i++) expected.set(keyOf(i), undefined);
  for (let i = KEYS_BEFORE; i < KEYS_BEFORE + KEYS_DURING; i++) expected.set(keyOf(i), `v1 of ${keyOf(i)}`);
  return expected;
}

async function writeBefore(urls: readonly string[]): Promise<void> {
  const keys = Array.from({ length: KEYS_BEFORE }, (_, i) => keyOf(i));
  const answers = await inParallel(keys, CONCURRENCY, (key, i) => setKey(urls[i % urls.length]!, key, `v1 of ${key}`));
  expect(answers.map((a) => a.status)).toEqual(keys.map(() => 200));
}

/** Overwrites, deletes and new keys through the live nodes only; every one must be acknowledged. */
async function writeDuring(urls: readonly string[]): Promise<void> {
  const overwrites = Array.from({ length: OVERWRITTEN }, (_, i) => keyOf(i));
  const deletes = Array.from({ length: DELETED }, (_, i) => keyOf(OVERWRITTEN + i));
  const fresh = Array.from({ length: KEYS_DURING }, (_, i) => keyOf(KEYS_BEFORE + i));
  const written = await inParallel([...overwrites, ...fresh], CONCURRENCY, (key, i) =>
    setKey(urls[i % urls.length]!, key, `${overwrites.includes(key) ? "v2" : "v1"} of ${key}`),
  );
  expect(written.filter((a) => a.status !== 200)).toEqual([]);
  const deleted = await inParallel(deletes, CONCURRENCY, (key, i) => delKey(urls[i % urls.length]!, key));
  expect(deleted.map((a) => `${a.status} ${a.text}`)).toEqual(deletes.map(() => "200 1"));
}

/** Every key reads as expected through every given node. */
async function expectReads(urls: readonly string[], expected: ReadonlyMap<string, string | undefined>): Promise<void> {
  const reads = await inParallel([...expected.keys()], CONCURRENCY, async (key, i) => ({ key, answer: await getKey(urls[i % urls.length]!, key) }));
  const wrong = reads.filter(({ key, answer }) => {
    const want = expected.get(key);
    return want === undefined ? answer.status !== 404 : answer.status !== 200 || answer.value !== want;
  });
  expect(wrong.map(({ key, answer }) => `${key}: ${answer.status} ${answer.text.slice(0, 120)}`)).toEqual([]);
}

/** Keys whose record on `nodeUrl` differs from the one on `reference` (value, version and tombstone). */
async function differingRecords(nodeUrl: string, reference: string, keys: readonly string[]): Promise<string[]> {
  const pairs = await inParallel(keys, CONCURRENCY, async (key) => ({ key, mine: await ownRecord(nodeUrl, key), theirs: await ownRecord(reference, key) }));
  return pairs.filter(({ mine, theirs }) => JSON.stringify(mine) !== JSON.stringify(theirs)).map(({ key }) => key);
}

/** The reference node's records must match what the client was told: acknowledged values and tombstones. */
async function expectReference(reference: string, expected: ReadonlyMap<string, string | undefined>): Promise<Map<string, WireRecord>> {
  const records = new Map<string, WireRecord>();
  for (const key of expected.keys()) {
    const record = await ownRecord(reference, key);
    expect(record).not.toBeNull();
    const want = expected.get(key);
    expect(record!.tombstone).toBe(want === undefined);
    if (want !== undefined) expect(record!.value).toBe(want);
    records.set(key, record!);
  }
  return records;
}

function waitForSameRecords(victim: string, reference: string, keys: readonly string[]) {
  return waitUntil(`${victim} holds the same record as ${reference} for all ${keys.length} keys`, () => differingRecords(victim, reference, keys), (differ) => differ.length === 0, REPAIR_WAIT_MS);
}

/**
 * Three sqlite nodes that agree on the ring and hold the first writes; node 2 is the one the test
 * takes down. Disposal stops the nodes with SIGINT (no hand-off), then removes the cluster.
 */
async function threeWithData(timing: ClusterTiming, antiEntropyMs: number) {
  const cluster = await startCluster({ size: 3, backend: "sqlite", timing, args: replicationArgs(antiEntropyMs) });
  const stop = interruptOnExit(cluster);
  const dispose = async () => {
    await stop[Symbol.asyncDispose]();
    await cluster[Symbol.asyncDispose]();
  };
  try {
    await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
    await writeBefore(cluster.urls);
  } catch (error) {
    await dispose();
    throw error;
  }
  return { cluster, victim: cluster.node(2), live: [cluster.node(0).url, cluster.node(1).url], [Symbol.asyncDispose]: dispose };
}

describe("a replica down in a three-node cluster with RF=3, W=2, R=2", () => {
  test("writes and reads through the other two keep succeeding; after a restart, hinted handoff alone brings it up to date on disk", async () => {
    await using setup = await threeWithData(STAYS_IN_RING, ANTI_ENTROPY_OFF_MS);
    const { cluster, victim, live } = setup;

    await victim.kill9();
    await writeDuring(live);
    const expected = expectedAfterDowntime();
    await expectReads(live, expected);
    // The victim stayed in every ring, so every write it missed is a hint on its coordinator.
    const backlog = (await Promise.all(live.map(readReplication))).reduce((sum, r) => sum + (r.hintsByTarget[victim.url] ?? 0), 0);
    expect(backlog).toBeGreaterThanOrEqual(OVERWRITTEN + DELETED + KEYS_DURING);

    const rebalancedBefore = await Promise.all(live.map(async (url) => (await readReplication(url)).rebalance.streamed));
    await victim.restart();
    const keys = [...expected.keys()];
    const { elapsedMs } = await waitForSameRecords(victim.url, live[0]!, keys);
    console.log(`hinted handoff: ${backlog} hints, the restarted replica was up to date ${Math.round(elapsedMs)} ms after it answered`);
    // A delivered batch leaves the backlog just after the replica stored it.
    const { value: after } = await waitUntil(
      `no hint for ${victim.url} waits`,
      () => Promise.all(live.map(readReplication)),
      (states) => states.every((r) => r.hintsByTarget[victim.url] === undefined),
      REPAIR_WAIT_MS,
    );
    expect(after.reduce((sum, r) => sum + r.hintsDelivered, 0)).toBeGreaterThanOrEqual(backlog);
    // No ring changed (the victim never died), so nothing was rebalanced: the hints did it.
    expect(after.map((r) => r.rebalance.streamed)).toEqual(rebalancedBefore);
    const reference = await expectReference(live[0]!, expected);

    // SIGINT stops without a hand-off; what the replica's own file holds is what it was given.
    expect(await victim.interrupt()).toBe(0);
    const store = new SqliteBackend({ path: storePath({ kind: "sqlite", dataDir: victim.dataDir, nodeUrl: victim.url })!, sync: "normal", valueBytesMax: 1024 * 1024, clock: Date.now });
    try {
      for (const [key, record] of reference) expect(await store.get(key)).toEqual(fromWire(record));
    } finally {
      await store.close();
    }
  }, CLUSTER_TEST_TIMEOUT_MS * 2);

  test("writes made while it was dead are acknowledged by the other two and hinted to it (it keeps its ranges); once restarted it never serves its old values, and hints and anti-entropy repair it", async () => {
    await using setup = await threeWithData(REPLICATION_TIMING, ANTI_ENTROPY_MS);
    const { cluster, victim, live } = setup;

    await victim.kill9();
    // Both survivors hold the victim dead, yet it stays in their rings: a key's replicas are still the three.
    await waitForDeath(live, victim.url, AGREE_WAIT_MS);
    for (const url of live) expect((await readRing(url)).allNodes).toEqual(cluster.urls);
    const hintsForVictim = async () => (await Promise.all(live.map(readReplication))).map((r) => r.hintsByTarget[victim.url] ?? 0);
    const hintsAtDeath = (await hintsForVictim()).reduce((a, b) => a + b, 0);
    await writeDuring(live);
    const expected = expectedAfterDowntime();
    await expectReads(live, expected);
    // Every write and delete made while it was dead waits for it as a hint on its coordinator, none sent to it.
    expect((await hintsForVictim()).reduce((a, b) => a + b, 0) - hintsAtDeath).toBe(OVERWRITTEN + KEYS_DURING + DELETED);

    // Its only seed is frozen, so it does not rejoin at once (only a dead-member probe of the other node
    // finds it). Until it rejoins it must say so (503), never answer alone from its own old store.
    const seed = cluster.node(1);
    seed.process.kill("SIGSTOP");
    let early: { key: string; answer: Answer }[];
    try {
      await victim.restart();
      early = await inParallel([...expected.keys()], CONCURRENCY, async (key) => ({ key, answer: await getKey(victim.url, key) }));
    } finally {
      seed.process.kill("SIGCONT");
    }
    const wrong = early.filter(({ key, answer }) => answer.status !== 503 && (expected.get(key) === undefined ? answer.status !== 404 : answer.value !== expected.get(key)));
    expect(wrong.map(({ key, answer }) => `${key}: ${answer.status} ${answer.text.slice(0, 120)}`)).toEqual([]);
    console.log(`straight after the restart: ${early.filter(({ answer }) => answer.status === 503).length} of ${early.length} reads answered 503 while it rejoined`);
    await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
    const { elapsedMs } = await waitForSameRecords(victim.url, live[0]!, [...expected.keys()]);
    const state = await Promise.all(cluster.urls.map(readReplication));
    console.log(
      `hints: the restarted replica was up to date ${Math.round(elapsedMs)} ms after the cluster agreed; ` +
        `streamed by rebalancing ${state.map((r) => r.rebalance.streamed).join("/")}, anti-entropy repairs ${state.map((r) => r.antiEntropyRepairs).join("/")}`,
    );
    await expectReference(live[0]!, expected);
    await expectReads([victim.url], expected);
  }, CLUSTER_TEST_TIMEOUT_MS * 2);

  test("rows deleted from a running replica's SQLite file are found by the digest recount and repaired by anti-entropy", async () => {
    await using setup = await threeWithData(STAYS_IN_RING, ANTI_ENTROPY_FAST_MS);
    const { cluster, victim, live } = setup;
    const keys = Array.from({ length: KEYS_BEFORE }, (_, i) => keyOf(i));
    const hintsFor = async () => (await Promise.all(cluster.urls.map(readReplication))).map((r) => r.hintsByTarget[victim.url] ?? 0);
    await waitUntil(`no hint waits for ${victim.url}`, hintsFor, (hints) => hints.every((n) => n === 0), REPAIR_WAIT_MS);
    await waitForSameRecords(victim.url, live[0]!, keys);
    // Behind the node's back, as a damaged or hand-edited file would: its digests still count these rows.
    const lost = keys.filter((_, i) => i % 3 === 0);
    const file = new Database(storePath({ kind: "sqlite", dataDir: victim.dataDir, nodeUrl: victim.url })!);
    try {
      file.exec("PRAGMA busy_timeout = 5000");
      const removed = file.query(`DELETE FROM records WHERE key IN (${lost.map(() => "?").join(", ")})`).run(...lost).changes;
      expect(removed).toBe(lost.length);
    } finally {
      file.close();
    }
    expect((await differingRecords(victim.url, live[0]!, keys)).length).toBe(lost.length);
    const { elapsedMs } = await waitUntil(`${victim.url} holds every record again`, () => differingRecords(victim.url, live[0]!, keys), (differ) => differ.length === 0, RECOUNT_WAIT_MS);
    console.log(`the recount and anti-entropy restored ${lost.length} rows deleted from a replica's file in ${Math.round(elapsedMs)} ms`);
    expect(await hintsFor()).toEqual([0, 0, 0]);
    await waitUntil("the victim logs the correction", async () => victim.stdout, (out) => out.includes("store digests disagreed with the records"), REPAIR_WAIT_MS);
  }, CLUSTER_TEST_TIMEOUT_MS * 5);

  test("a replica that lost its whole store but never left the ring is refilled by anti-entropy alone", async () => {
    await using setup = await threeWithData(STAYS_IN_RING, ANTI_ENTROPY_MS);
    const { cluster, victim, live } = setup;
    const keys = Array.from({ length: KEYS_BEFORE }, (_, i) => keyOf(i));

    // A setup write that reached the victim too late on a loaded machine left a hint; it is delivered first, so
    // that any hint seen below could only come from a write made while the victim was down.
    const hintsFor = async () => (await Promise.all(cluster.urls.map(readReplication))).map((r) => r.hintsByTarget[victim.url] ?? 0);
    await waitUntil(`no hint waits for ${victim.url}`, hintsFor, (hints) => hints.every((n) => n === 0), REPAIR_WAIT_MS);
    // A lost disk: the files go, the node comes back empty on the same URL before anyone holds it dead.
    expect(await victim.interrupt()).toBe(0);
    await rm(victim.dataDir, { recursive: true, force: true });
    await mkdir(victim.dataDir);
    const rebalancedBefore = await Promise.all(live.map(async (url) => (await readReplication(url)).rebalance.streamed));
    await victim.restart();

    const { elapsedMs } = await waitForSameRecords(victim.url, live[0]!, keys);
    console.log(`anti-entropy refilled an emptied replica with ${KEYS_BEFORE} keys ${Math.round(elapsedMs)} ms after it answered`);
    // No write was made while it was down (no hints for it) and no ring changed (nothing rebalanced): only anti-entropy was left.
    expect(await hintsFor()).toEqual([0, 0, 0]);
    expect(await Promise.all(live.map(async (url) => (await readReplication(url)).rebalance.streamed))).toEqual(rebalancedBefore);
  }, CLUSTER_TEST_TIMEOUT_MS * 2);
});
