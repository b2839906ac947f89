// A key path with a broken percent-escape is refused: it must never be read as another key (U+FFFD) and acted on.
import { expect, test } from "bun:test";
import { fetchNode } from "../support/cluster.ts";
import { startNode } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";
import { expectStillServes, setKey } from "./serving.ts";

const TEST_TIMEOUT_MS = 30_000;
/** What a lenient decoder makes of a broken escape: the key the attack would hit. */
const REPLACEMENT = "\uFFFD";

async function expectBadRequest(response: Response): Promise<void> {
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({ code: "bad_request", error: expect.any(String) });
}

test(
  "GET and DELETE of %C3, %zz and a cut UTF-8 sequence get 400 bad_request and leave the key U+FFFD alone",
  async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory" });
    expect((await setKey(node.url, REPLACEMENT, "victim")).status).toBe(200);
    expect((await setKey(node.url, "%zz", "literal")).status).toBe(200);

    for (const escape of ["%C3", "%zz", "%E2%82", "a%", "%C3%28"]) {
      await expectBadRequest(await fetchNode(`${node.url}/api/v1/del/${escape}`, { method: "DELETE" }));
      await expectBadRequest(await fetchNode(`${node.url}/api/v1/get/${escape}`));
    }

    expect(await (await fetchNode(`${node.url}/api/v1/get/${encodeURIComponent(REPLACEMENT)}`)).json()).toMatchObject({ value: "victim" });
    expect(await (await fetchNode(`${node.url}/api/v1/get/${encodeURIComponent("%zz")}`)).json()).toMatchObject({ value: "literal" });
    // Valid escapes still name their keys exactly.
    for (const key of ["a/b", "100%", "😀", "%2F"]) {
      expect((await setKey(node.url, key, `value of ${key}`)).status).toBe(200);
      expect(await (await fetchNode(`${node.url}/api/v1/get/${encodeURIComponent(key)}`)).json()).toMatchObject({ value: `value of ${key}` });
    }
    await expectStillServes(node.url);
  },
  TEST_TIMEOUT_MS,
);
