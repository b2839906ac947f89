// JSON nested 100,000 deep, in a client's SET or a peer's gossip, is refused as a bad request at once, never a 500.
import { expect, test } from "bun:test";
import { fetchNode } from "../support/cluster.ts";
import { startNode } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";
import { expectStillServes, JSON_HEADERS } from "./serving.ts";

const DEPTH = 100_000;
const TEST_TIMEOUT_MS = 45_000;
/** A refusal takes milliseconds; the seed spent seconds on such a body before its 500, so a bound fails it fast. */
const ANSWER_WITHIN_MS = 10_000;

const deep = "[".repeat(DEPTH) + "]".repeat(DEPTH);

test.each([
  ["a SET whose extra field nests 100,000 arrays", "/api/v1/set", `{"key":"deep-json","value":"v","extra":${deep}}`],
  ["a SET body that is 100,000 nested arrays", "/api/v1/set", deep],
  ["a gossip message that is 100,000 nested arrays", "/gossip", deep],
])(
  "%s gets 400 bad_request, stores nothing, and the node keeps serving",
  async (_name, path, body) => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory" });
    const response = await fetch(`${node.url}${path}`, { method: "POST", headers: JSON_HEADERS, body, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "bad_request", error: expect.any(String) });
    expect((await fetchNode(`${node.url}/api/v1/get/deep-json`)).status).toBe(404);
    await expectStillServes(node.url);
  },
  TEST_TIMEOUT_MS,
);
