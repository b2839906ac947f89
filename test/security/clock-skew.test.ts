// A node whose clock runs beyond MAX_CLOCK_SKEW_MS of its peers' finds out and says so, in its health and its log,
// and coordinates no write until it is back; its gossip from the future is refused, so it never drags the others. The bad clock is real: libfaketime, preloaded
// into one node process (Bun reads the wall clock through libc); .ci/run installs Debian's faketime package.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, freePorts, readState, TEST_TIMING, timingArgs, urlOf, waitUntil, type ClusterTiming } from "../support/cluster.ts";
import { startNode } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";
import { clockOffsetEnv, LIBFAKETIME, steppableClockEnv, WAIT_MAX_MS } from "./gossip-attacks.ts";

const AHEAD_MS = 10_000;
/** How far ahead a node is started: an hour, as a wrong time zone gives. */
const STARTED_AHEAD_S = 3_600;
/** Keys whose replicas include both members that step. */
const STEPPED_PAIR_KEYS = 6;
/** How long writes are watched after the step: past the moment both see it, within the wait an estimate's reading needs. */
const STEP_WATCH_MS = 3_000;
/** Room for the round trip and scheduling in the estimate of a 10 s offset. */
const ESTIMATE_SLACK_MS = 1_000;

interface ClockOut {
  clock?: { status: string; offsetMs: number; peers: number };
}

/** Starts a memory node under `root` with the test timing, no cluster secret and these seeds. */
const starter = (root: string, timing: ClusterTiming = TEST_TIMING) => (port: number, name: string, peers: string[], env: Record<string, string> = {}) =>
  startNode({ dataDir: join(root, name), backend: "memory", port, args: [...timingArgs(timing), "-node.peers", peers.join(",")], env: { CLUSTER_SECRET: "", ...env } });

/** Sets `key` (k when left out) through `url`, to the URL itself. */
const setK = (url: string, key = "k") => fetchNode(`${url}/api/v1/set`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key, value: url }) });

const healthOf = async (url: string) => ((await (await fetchNode(`${url}/api/v1/health`)).json()) as ClockOut).clock ?? null;

describe("a node whose clock runs ahead of its peers'", () => {
  beforeAll(() => {
    if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: apt-get install faketime (.ci/run does)`);
  });

  test(
    "says so in its health and log, is never let in with news from the future, and its peers stay ok",
    async () => {
      await using dir = await tempDir();
      const [pa, pb, pc] = freePorts(3) as [number, number, number];
      const [a, b, c] = [urlOf(pa), urlOf(pb), urlOf(pc)];
      const start = starter(dir.path);
      // Nobody has the node ahead as a seed: it only ever hears from its peers that they refuse it.
      await using nodeA = await start(pa, "a", [b]);
      await using nodeB = await start(pb, "b", [a]);
      // Only this process's wall clock moves; its monotonic clock (timers) stays real.
      await using nodeC = await start(pc, "c", [a], clockOffsetEnv(AHEAD_MS));

      const { value } = await waitUntil("the node ahead reports it", () => healthOf(nodeC.url), (clock) => clock?.status === "ahead", WAIT_MAX_MS);
      expect(value!.offsetMs).toBeGreaterThan(AHEAD_MS - ESTIMATE_SLACK_MS);
      expect(value!.offsetMs).toBeLessThan(AHEAD_MS + ESTIMATE_SLACK_MS);
      await waitUntil("the warning is in its log", async () => nodeC.stdout, (out) => out.includes("clock ahead of its peers"), WAIT_MAX_MS);
      // The node ahead may learn it is ahead (its SYNs refused) before the other two have met: wait for them.
      await waitUntil("the two in time list each other", () => readState(nodeA.url), (state) => state.peers.length === 2, WAIT_MAX_MS);
      for (const url of [nodeA.url, nodeB.url]) {
        expect((await healthOf(url))?.status).toBe("ok");
        expect((await readState(url)).peers).not.toContain(c);
      }
      expect((await readState(nodeA.url)).peers).toEqual([a, b].sort());

    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "a member whose clock steps ahead after it joined coordinates no write until it is back within the skew, and its peers take them",
    async () => {
      await using dir = await tempDir();
      const [pa, pb, pc] = freePorts(3) as [number, number, number];
      const [a, b, c] = [urlOf(pa), urlOf(pb), urlOf(pc)];
      const offsetFile = join(dir.path, "faketime-offset");
      await Bun.write(offsetFile, "+0");
      const start = starter(dir.path);
      await using nodeA = await start(pa, "a", [b, c]);
      await using nodeB = await start(pb, "b", [a, c]);
      // The offset is read from the file (cached for at most a second), so the clock steps while the node runs.
      await using nodeC = await start(pc, "c", [a, b], steppableClockEnv(offsetFile));
      const set = (url: string) => setK(url);
      await waitUntil("the member coordinates writes", async () => (await set(nodeC.url)).status, (status) => status === 200, WAIT_MAX_MS);

      await Bun.write(offsetFile, `+${AHEAD_MS / 1000}`);
      await waitUntil("the member reports its clock ahead", () => healthOf(nodeC.url), (clock) => clock?.status === "ahead", WAIT_MAX_MS);
      // Until then its peers refuse its versions from the future (503 too); once the reading has held for the stale
      // time (a moment's noise in one estimate is no step), it refuses to coordinate writes at all, and says why.
      const { value: refused } = await waitUntil(
        "the member refuses writes because of its clock",
        async () => {
          const response = await set(nodeC.url);
          return { status: response.status, text: await response.text() };
        },
        (answer) => answer.text.includes("beyond MAX_CLOCK_SKEW_MS"),
        WAIT_MAX_MS,
      );
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.text)).toEqual({ error: expect.stringContaining("beyond MAX_CLOCK_SKEW_MS"), code: "unavailable" });
      expect(await (await set(nodeA.url)).text()).toBe("OK");

      await Bun.write(offsetFile, "+0");
      await waitUntil("the member is back within the skew", () => healthOf(nodeC.url), (clock) => clock?.status === "ok", WAIT_MAX_MS);
      await waitUntil("the member coordinates writes again", async () => (await set(nodeC.url)).status, (status) => status === 200, WAIT_MAX_MS);
      void nodeB;
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );

  test(
    "a node started with its clock an hour ahead joins its cluster and coordinates writes once its clock is set right",
    async () => {
      await using dir = await tempDir();
      const [pa, pb, pc] = freePorts(3) as [number, number, number];
      const [a, b, c] = [urlOf(pa), urlOf(pb), urlOf(pc)];
      const offsetFile = join(dir.path, "faketime-offset");
      await Bun.write(offsetFile, `+${STARTED_AHEAD_S}`);
      const start = starter(dir.path);
      const set = async (url: string) => {
        const response = await setK(url);
        return `${response.status} ${await response.text()}`;
      };
      await using nodeA = await start(pa, "a", [b, c]);
      await using nodeB = await start(pb, "b", [a, c]);
      // Its generation (its start time) is an hour ahead: its peers refuse its gossip, so it does not join.
      await using nodeC = await start(pc, "c", [a, b], steppableClockEnv(offsetFile));
      await waitUntil("the node reads its clock ahead", () => healthOf(nodeC.url), (clock) => clock?.status === "ahead", WAIT_MAX_MS);
      expect(await set(nodeC.url)).toContain("still joining");

      await Bun.write(offsetFile, "+0");
      // Were it to keep that generation, its peers would refuse its gossip, and it would stay out, for the hour.
      await waitUntil("the members list it", () => readState(nodeA.url), (state) => state.peers.includes(c), WAIT_MAX_MS);
      await waitUntil("the node coordinates writes", () => set(nodeC.url), (answer) => answer === "200 OK", WAIT_MAX_MS);
      expect(await (await fetchNode(`${nodeA.url}/api/v1/get/k`)).json()).toMatchObject({ value: nodeC.url });
      void nodeB;
    },
    CLUSTER_TEST_TIMEOUT_MS * 2,
  );

  test(
    "two members whose clocks step ahead together coordinate no write from the step at once, so none outlives the writes after it",
    async () => {
      await using dir = await tempDir();
      const ports = freePorts(5);
      const urls = ports.map(urlOf);
      const [x, y, z] = urls as [string, string, string];
      const offsetFile = join(dir.path, "faketime-offset");
      await Bun.write(offsetFile, "+0");
      // The test's fast gossip, but the default wait before a clock read off by its peers' estimates counts: the
      // step must be refused for being a step, not for having lasted.
      const start = starter(dir.path, { ...TEST_TIMING, staleAfterMs: 3_000, deadAfterMs: 6_000 });
      const nodes: Awaited<ReturnType<typeof start>>[] = [];
      for (const [i, port] of ports.entries()) {
        // Two of the five share one clock file: their clocks step together (one machine, or one bad time server).
        nodes.push(await start(port, `n${i}`, urls.filter((url) => url !== urls[i]), i < 2 ? steppableClockEnv(offsetFile) : {}));
      }
      await using _nodes = { [Symbol.asyncDispose]: async () => void (await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()))) };
      for (const url of [x, z]) await waitUntil("every member is listed", () => readState(url), (state) => state.peers.length === 5, WAIT_MAX_MS);
      // Keys whose three replicas include both members that step: their versions alone would make a write quorum.
      const keys: string[] = [];
      for (let i = 0; keys.length < STEPPED_PAIR_KEYS && i < 400; i++) {
        const { replicas } = (await (await fetchNode(`${x}/api/v1/replicas/pair-${i}`)).json()) as { replicas: { nodeUrl: string }[] };
        const held = replicas.map((replica) => replica.nodeUrl);
        if (held.includes(x) && held.includes(y)) keys.push(`pair-${i}`);
      }
      expect(keys.length).toBe(STEPPED_PAIR_KEYS);

      await Bun.write(offsetFile, `+${STARTED_AHEAD_S}`);
      let refused = 0;
      for (const untilMs = Date.now() + STEP_WATCH_MS; Date.now() < untilMs; ) {
        for (const key of keys) {
          const fromX = await setK(x, key);
          const answer = await fromX.text();
          if (fromX.status !== 200) {
            refused++;
            continue;
          }
          // Taken with a version from the step, it would win over this later write for the hour.
          expect(await (await setK(z, key)).text()).toBe("OK");
          const read = await fetchNode(`${z}/api/v1/get/${key}`);
          expect({ key, answer, status: read.status, body: await read.json() }).toMatchObject({ status: 200, body: { value: z } });
        }
      }
      // Once the step shows, the members that stepped refuse to coordinate writes.
      expect(refused).toBeGreaterThan(0);
      const refusal = await setK(x, keys[0]);
      expect(refusal.status).toBe(503);
      expect(await refusal.text()).toContain("beyond MAX_CLOCK_SKEW_MS");
    },
    CLUSTER_TEST_TIMEOUT_MS * 2,
  );
});
