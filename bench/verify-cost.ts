// What one background round's store calls cost on a real store file: the digest recount, the shared digests, count and purge.
// Usage: bun bench/verify-cost.ts FILE.sqlite (copied first, never changed).
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { VERIFY_SEGMENTS_PER_ROUND } from "../src/node/background.ts";
import { groupDigests, sharedDigests } from "../src/node/anti-entropy.ts";
import { WHOLE_RING } from "../src/ring/range.ts";
import { SqliteBackend } from "../src/store/sqlite.ts";

const source = Bun.argv[2];
if (source === undefined) {
  console.error("usage: bun bench/verify-cost.ts FILE.sqlite");
  process.exit(2);
}
const copy = join(tmpdir(), `limedb-verify-cost-${process.pid}.sqlite`);
copyFileSync(source, copy);
const store = new SqliteBackend({ path: copy, sync: "normal", valueBytesMax: 1024 * 1024, clock: Date.now });
const timed = async (what: string, run: () => Promise<unknown>) => {
  const started = performance.now();
  const result = await run();
  console.log(`${what}: ${(performance.now() - started).toFixed(1)} ms (${String(result)})`);
};
await timed("keys", () => store.count());
await timed(`recount of ${VERIFY_SEGMENTS_PER_ROUND} segments`, () => store.verifySegments(0, VERIFY_SEGMENTS_PER_ROUND));
await timed("shared digests of the whole ring and their groups", async () => groupDigests(await sharedDigests(store, [WHOLE_RING])).length);
await timed("purge of nothing", () => store.purge(0));
await store.close();
await Bun.$`rm -f ${copy} ${copy}-wal ${copy}-shm`.quiet();
