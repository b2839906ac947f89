// One /keys page over large values stays a few MiB: the page is cut by bytes and says so, instead of 100 values of 1 MiB.
import { expect, test } from "bun:test";
import type { KeysPage } from "../../src/node/node.ts";
import { fetchNode } from "../support/cluster.ts";
import { runLimedb } from "../support/limedb-cli.ts";
import { startNode } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";
import { expectStillServes, setKey } from "./serving.ts";

const MIB = 1024 * 1024;
/** Values at the default 1 MiB limit: together far more than a page may carry. */
const LARGE_VALUES = 8;
/** The node's 4 MiB page budget plus the JSON around it; the seed answered all 8 MiB. */
const ANSWER_BYTES_MAX = 4 * MIB + 64 * 1024;
const TEST_TIMEOUT_MS = 60_000;

/** The answer's shape is the node's own page type: the route returns it as it is. */
type KeysAnswer = KeysPage;

test(
  "GET /keys?pageSize=100 over 1 MiB values answers at most about 4 MiB, fewer entries, truncated: true, in the seed's shape",
  async () => {
    await using dir = await tempDir();
    // The default store (sqlite), which must stop reading rows at the budget.
    await using node = await startNode({ dataDir: dir.path });
    const value = "v".repeat(MIB - 16);
    for (let i = 0; i < LARGE_VALUES; i++) expect((await setKey(node.url, `large-${i}`, value)).status).toBe(200);

    const response = await fetchNode(`${node.url}/api/v1/keys?pageSize=100`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(ANSWER_BYTES_MAX);
    const answer = JSON.parse(text) as KeysAnswer;
    expect(answer).toMatchObject({ page: 1, pageSize: 100, total: LARGE_VALUES, totalPages: 1, truncated: true });
    expect(answer.keys.length).toBeGreaterThanOrEqual(1);
    expect(answer.keys.length).toBeLessThan(LARGE_VALUES);
    expect(answer.keys.map((entry) => entry.key)).toEqual(Array.from({ length: answer.keys.length }, (_, i) => `large-${i}`));
    expect(answer.keys.every((entry) => entry.value === value && entry.size === value.length)).toBe(true);

    // One value per page always fits, so a client can still walk every key.
    const last = (await (await fetchNode(`${node.url}/api/v1/keys?page=${LARGE_VALUES}&pageSize=1`)).json()) as KeysAnswer;
    expect(last).toMatchObject({ keys: [{ key: `large-${LARGE_VALUES - 1}` }], truncated: false });
    // The client reads every key even so: each request starts where the last, shorter page ended.
    const listed = await runLimedb(["keys", "--all", "--json", "--node", node.url]);
    expect(listed.exitCode).toBe(0);
    const all = JSON.parse(listed.stdout) as { keys: { key: string }[]; total: number };
    expect(all.keys.map((entry) => entry.key)).toEqual(Array.from({ length: LARGE_VALUES }, (_, i) => `large-${i}`));
    await expectStillServes(node.url);
  },
  TEST_TIMEOUT_MS,
);
