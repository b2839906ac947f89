// Any node serves any key across real node processes: forwarding to the ring's owner, and failures when the owner is gone.
import { describe, expect, test } from "bun:test";
import { DOWN_MAX_MS } from "../../src/node/reachability.ts";
import { ownerOf } from "../../src/ring/ring.ts";
import { allKeys, clientFor, type Client } from "../support/app.ts";
import { CLUSTER_TEST_TIMEOUT_MS,
  expectedRing,
  keyOwnedBy,
  readRing,
  readState,
  REQUEST_TIMEOUT_MS,
  startCluster,
  TEST_TIMING,
  waitForAgreement,
  waitUntil,
  type ClusterTiming, ONE_COPY } from "../support/cluster.ts";
import { runSeed, seededRandom } from "../support/seeded-random.ts";

const KEY_COUNT = 1000;
/** Requests in flight at once: enough to make the run short, few enough not to swamp a 2-core machine. */
const CONCURRENCY = 16;
/** Bound on a wait that should never come near it; it only keeps a broken cluster from hanging the suite. */
const WAIT_MAX_MS = 15_000;
/** Characters keys are drawn from: the ones URL paths mangle are there on purpose, as forwarding escapes them again. */
const KEY_ALPHABET = [..."abcxyz019-_.~/?#%& +=:;@!$'()*,é中😀"];
const KEY_SUFFIX_CHARS_MAX = 12;
const VALUE_CHARS_MAX = 64;

function clientOf(url: string): Client {
  return clientFor((request) => fetch(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }), url);
}

function randomText(random: () => number, alphabet: readonly string[], lengthMax: number): string {
  const length = 1 + Math.floor(random() * lengthMax);
  return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]!).join("");
}

/** Runs `work` over every item with at most CONCURRENCY in flight. */
async function forEachLimited<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

describe("a four-node cluster routes every key to its owner", () => {
  test("1,000 keys written through random nodes read back from every node, each stored on exactly its owner", async () => {
    const seed = runSeed();
    console.log(`routing test seed ${seed} (SEED=${seed} replays it)`);
    const random = seededRandom(seed);
    await using cluster = await startCluster({ size: 4, args: ONE_COPY });
    const urls = cluster.urls;
    await waitForAgreement(urls, urls, WAIT_MAX_MS);
    const ring = await expectedRing(urls);

    // Every random choice is drawn before any request, so the order requests finish in cannot change them.
    const writes = Array.from({ length: KEY_COUNT }, (_, i) => ({
      key: `k${i}-${randomText(random, KEY_ALPHABET, KEY_SUFFIX_CHARS_MAX)}`,
      value: randomText(random, KEY_ALPHABET, VALUE_CHARS_MAX),
      via: urls[Math.floor(random() * urls.length)]!,
    }));
    const owners = new Map(writes.map(({ key }) => [key, ownerOf(ring, key)!]));

    const failedWrites: string[] = [];
    await forEachLimited(writes, async ({ key, value, via }) => {
      const response = await clientOf(via).set(key, value);
      const text = await response.text();
      if (response.status !== 200 || text !== "OK") failedWrites.push(`${key} via ${via}: ${response.status} ${text}`);
    });
    expect(failedWrites).toEqual([]);

    const wrongReads: string[] = [];
    const reads = writes.flatMap((write) => urls.map((from) => ({ ...write, from })));
    await forEachLimited(reads, async ({ key, value, from }) => {
      const response = await clientOf(from).get(key);
      const body = (await response.json()) as { value?: string; nodeUrl?: string };
      if (response.status !== 200 || body.value !== value || body.nodeUrl !== owners.get(key)) {
        wrongReads.push(`${JSON.stringify(key)} from ${from}: ${response.status} ${JSON.stringify(body)}, owner ${owners.get(key)}`);
      }
    });
    expect(wrongReads).toEqual([]);

    // Each node's own store holds exactly the keys the ring gives it, with their values, and no other.
    const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    for (const url of urls) {
      const stored = (await allKeys(clientOf(url))).map(({ key, value }) => ({ key, value })).sort(byKey);
      const expected = writes.filter(({ key }) => owners.get(key) === url).map(({ key, value }) => ({ key, value })).sort(byKey);
      expect(expected.length).toBeGreaterThan(0);
      expect(stored).toEqual(expected);
    }
  }, CLUSTER_TEST_TIMEOUT_MS);
});

/** Forwarding gives up well before the dead timeout, so the owner is still in every ring while the test runs. */
const OWNER_DOWN_TIMING: ClusterTiming = { ...TEST_TIMING, staleAfterMs: 1000, deadAfterMs: 5000, forwardTimeoutMs: 500 };
/** Room above the forward timeout for the coordinator's own work and a loaded machine. */
const FORWARD_SLACK_MS = 750;
/** Timers may fire a little early; a 504 well before the forward timeout would mean the node gave up too soon. */
const EARLY_TIMER_MS = 50;

interface Timed {
  readonly status: number;
  readonly body: unknown;
  readonly elapsedMs: number;
}

async function timed(request: () => Promise<Response>): Promise<Timed> {
  const started = performance.now();
  const response = await request();
  const body: unknown = await response.json();
  return { status: response.status, body, elapsedMs: performance.now() - started };
}

describe("a node whose owner is gone", () => {
  test("answers 504 for a frozen owner once, then 503 at once while it stays unreachable; 503 for a killed one within the forward timeout; keeps serving other keys", async () => {
    const { forwardTimeoutMs } = OWNER_DOWN_TIMING;
    await using cluster = await startCluster({ size: 4, timing: OWNER_DOWN_TIMING, args: ONE_COPY });
    const urls = cluster.urls;
    await waitForAgreement(urls, urls, WAIT_MAX_MS);
    const ring = await expectedRing(urls);
    const [coordinator, frozen, killed, healthy] = cluster.nodes;
    const client = clientOf(coordinator!.url);
    const keys = {
      own: keyOwnedBy(ring, coordinator!.url),
      frozen: keyOwnedBy(ring, frozen!.url),
      killed: keyOwnedBy(ring, killed!.url),
      healthy: keyOwnedBy(ring, healthy!.url),
    };
    for (const key of Object.values(keys)) expect(await (await client.set(key, `before ${key}`)).text()).toBe("OK");

    // A frozen process holds its socket open and never answers: only the forward timeout ends the first wait.
    frozen!.process.kill("SIGSTOP");
    const stuck = await timed(() => client.get(keys.frozen));
    console.log(`frozen owner: ${stuck.status} after ${Math.round(stuck.elapsedMs)} ms (forward timeout ${forwardTimeoutMs} ms)`);
    expect(stuck.status).toBe(504);
    expect(stuck.body).toEqual({ error: expect.any(String), code: "timeout" });
    expect(stuck.elapsedMs).toBeGreaterThanOrEqual(forwardTimeoutMs - EARLY_TIMER_MS);
    expect(stuck.elapsedMs).toBeLessThanOrEqual(forwardTimeoutMs + FORWARD_SLACK_MS);
    // From then on the coordinator knows the owner does not answer (gossip still calls it alive): no request
    // waits on it, and a write is refused before it is sent, so it was not applied.
    const skipped = [await timed(() => client.set(keys.frozen, "after")), await timed(() => client.del(keys.frozen)), await timed(() => client.get(keys.frozen))];
    for (const answer of skipped) {
      console.log(`frozen owner, known unreachable: ${answer.status} after ${Math.round(answer.elapsedMs)} ms`);
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({ error: expect.stringMatching(/can be reached/), code: "unavailable" });
      expect(answer.elapsedMs).toBeLessThan(forwardTimeoutMs - EARLY_TIMER_MS);
    }

    await killed!.kill9();
    const refused = [await timed(() => client.get(keys.killed)), await timed(() => client.set(keys.killed, "after"))];
    for (const answer of refused) {
      console.log(`killed owner: ${answer.status} after ${Math.round(answer.elapsedMs)} ms`);
      expect([503, 504]).toContain(answer.status);
      expect(answer.body).toEqual({ error: expect.any(String), code: answer.status === 503 ? "unavailable" : "timeout" });
      expect(answer.elapsedMs).toBeLessThanOrEqual(forwardTimeoutMs + FORWARD_SLACK_MS);
    }

    // Both owners were still in the coordinator's ring: these were requests routed to them, not after a move.
    expect((await readState(coordinator!.url)).peers).toEqual(urls);

    // Keys the coordinator owns, and keys of a live owner, are served as before.
    expect(await (await client.get(keys.own)).json()).toEqual({ value: `before ${keys.own}`, nodeUrl: coordinator!.url });
    expect(await (await client.set(keys.own, "after")).text()).toBe("OK");
    expect(await (await client.get(keys.own)).json()).toEqual({ value: "after", nodeUrl: coordinator!.url });
    expect(await (await client.get(keys.healthy)).json()).toEqual({ value: `before ${keys.healthy}`, nodeUrl: healthy!.url });
    expect(await (await client.set(keys.healthy, "after")).text()).toBe("OK");
    expect(await (await client.del(keys.healthy)).text()).toBe("1");
    expect((await client.get(keys.healthy)).status).toBe(404);

    // Thawed, the frozen owner answers again once the coordinator's probe reaches it (within DOWN_MAX_MS).
    // The value is "before": the later writes were refused before they were sent.
    frozen!.process.kill("SIGCONT");
    const thawedAt = performance.now();
    const thawed = await waitUntil("the thawed owner serves its key again", () => timed(() => client.get(keys.frozen)), (answer) => answer.status === 200, DOWN_MAX_MS + forwardTimeoutMs + WAIT_MAX_MS);
    console.log(`thawed owner: served again ${Math.round(performance.now() - thawedAt)} ms after SIGCONT`);
    expect(thawed.value.body).toEqual({ value: `before ${keys.frozen}`, nodeUrl: frozen!.url });
  }, CLUSTER_TEST_TIMEOUT_MS);
});
