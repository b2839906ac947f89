// A node paused with SIGSTOP and resumed: it excuses its peers the silence it did not hear (none is held dead),
// and the requests that queued up during the pause get a 503, or the right answer, never one from its old view.
import { expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, readState, REQUEST_TIMEOUT_MS, startCluster, waitForAgreement, type ClusterTiming } from "../support/cluster.ts";
import { getKey, replicationArgs, REPLICATION_TIMING, setKey } from "../support/replication.ts";

/** A pause of three dead-after periods: long enough that a detector on the wall clock, run first, kills every peer. */
const TIMING: ClusterTiming = { ...REPLICATION_TIMING, staleAfterMs: 800, deadAfterMs: 1600 };
const PAUSE_MS = 3 * TIMING.deadAfterMs;
const AGREE_WAIT_MS = 15_000;
const ANTI_ENTROPY_MS = 3_600_000;
/** Reads sent to the paused node while it is stopped: each waits in its socket until it resumes. */
const QUEUED_READS = 20;
/** How often the resumed node's view is read in the second after it resumes. */
const SAMPLES = 20;

test("a node resumed after a pause holds no peer dead, and answers what queued during the pause with 503 or the right value", async () => {
  await using cluster = await startCluster({ size: 3, timing: TIMING, args: replicationArgs(ANTI_ENTROPY_MS) });
  await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
  const [a, b, paused] = cluster.nodes;
  const keys = Array.from({ length: QUEUED_READS }, (_, i) => `paused-${i}`);
  for (const key of keys) expect((await setKey(a!.url, key, `v1 of ${key}`)).status).toBe(200);

  const logBefore = paused!.stdout.length;
  paused!.process.kill("SIGSTOP");
  // Written while it is stopped: the paused node holds v1 of every key, so an answer from its own view would be stale.
  for (const key of keys) expect((await setKey(b!.url, key, `v2 of ${key}`)).status).toBe(200);
  // They wait out the pause: the client's deadline is the pause plus the usual one (a loaded CI machine took over 5 s).
  const queued = keys.map((key) => getKey(paused!.url, key, PAUSE_MS + REQUEST_TIMEOUT_MS));
  await Bun.sleep(PAUSE_MS);
  paused!.process.kill("SIGCONT");

  const views = [];
  for (let i = 0; i < SAMPLES; i++) views.push(await readState(paused!.url).catch(() => undefined));
  const answers = await Promise.all(queued);
  const held = views.flatMap((view) => view?.members.filter((m) => m.state === "dead").map((m) => m.url) ?? []);
  console.log(`after a ${PAUSE_MS} ms pause: ${answers.filter((r) => r.status === 503).length} of ${QUEUED_READS} queued reads answered 503, the rest ${JSON.stringify([...new Set(answers.filter((r) => r.status !== 503).map((r) => r.status))])}`);
  expect(held).toEqual([]);
  // The reads waiting in its sockets are answered before its first gossip round after the pause: it refuses them.
  expect(answers.filter((answer) => answer.status === 503).length).toBeGreaterThan(0);
  expect(views.filter((view) => view === undefined)).toEqual([]);
  // Nor for a moment between the samples: its log names every change of a member's state.
  await Bun.sleep(2 * TIMING.intervalMs);
  expect(paused!.stdout.slice(logBefore).split("\n").filter((line) => line.includes('"to":"dead"'))).toEqual([]);
  const wrong = answers.map((answer, i) => ({ key: keys[i]!, answer })).filter(({ key, answer }) => answer.status !== 503 && answer.value !== `v2 of ${key}`);
  expect(wrong.map(({ key, answer }) => `${key}: ${answer.status} ${answer.text.slice(0, 160)}`)).toEqual([]);
  // Refreshed, it serves again.
  expect((await getKey(paused!.url, keys[0]!)).value).toBe(`v2 of ${keys[0]}`);
}, CLUSTER_TEST_TIMEOUT_MS);
