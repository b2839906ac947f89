// Holds the sqlite backend to the Backend contract in both sync modes, and checks it refuses files that are not its own.
import { describe, expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SQLITE_SYNC_MODES, type SqliteSyncMode } from "../../src/config/settings.ts";
import type { BackendOptions } from "../../src/store/backend.ts";
import { StoreError } from "../../src/store/errors.ts";
import { SqliteBackend, storedRing } from "../../src/store/sqlite.ts";
import { tempDir } from "../support/temp-dir.ts";
import { Database } from "bun:sqlite";
import { WHOLE_RING } from "../../src/ring/range.ts";
import { ringPosition, SEGMENT_COUNT, SegmentDigests, segmentOf } from "../../src/store/segments.ts";
import { CONTRACT_VALUE_BYTES_MAX, ManualClock, backendContract, durabilityContract, inTempDir, live, tombstone, version } from "./conformance.ts";
import { BATCH_ITEMS_MAX } from "../../src/store/turn-batch.ts";

const FILE_NAME = "store.sqlite";

function opener(sync: SqliteSyncMode) {
  return (path: string, options: BackendOptions) => new SqliteBackend({ ...options, path, sync });
}

function options(): BackendOptions {
  return { clock: new ManualClock().now, valueBytesMax: CONTRACT_VALUE_BYTES_MAX };
}

describe.each(SQLITE_SYNC_MODES)("sqlite backend with synchronous=%s", (sync) => {
  const openAt = opener(sync);

  backendContract(inTempDir(openAt, FILE_NAME));

  durabilityContract(openAt, FILE_NAME);
});

describe("sqlite backend files", () => {
  const openAt = opener("normal");

  test.each([
    ["garbage bytes", new Uint8Array(Array.from({ length: 8192 }, (_, i) => (i * 131 + 7) % 256))],
    ["a JSON store file", new TextEncoder().encode(JSON.stringify({ format: "limedb-fs/1", records: {} }))],
    ["a truncated SQLite header", new TextEncoder().encode("SQLite format 3\u0000")],
  ])("a file of %s is refused with a StoreError naming the file, and left unchanged", async (_name, bytes) => {
    await using dir = await tempDir();
    const path = join(dir.path, FILE_NAME);
    await writeFile(path, bytes);
    let thrown: unknown;
    try {
      const backend = openAt(path, options());
      await backend.close();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StoreError);
    expect(thrown).toMatchObject({ code: "corrupt" });
    expect((thrown as StoreError).message).toContain(path);
    expect(new Uint8Array(await readFile(path))).toEqual(bytes);
  });

  test("a file named without a folder opens in the current directory instead of becoming a folder", async () => {
    await using dir = await tempDir();
    const previous = process.cwd();
    let backend: SqliteBackend;
    // The constructor is synchronous, so the working directory is restored before anything else runs;
    // SQLite keeps the absolute path it resolved at open.
    process.chdir(dir.path);
    try {
      backend = openAt(FILE_NAME, options());
    } finally {
      process.chdir(previous);
    }
    try {
      await backend.put(live("k", "v", version(1)));
      expect((await backend.get("k"))?.value).toBe("v");
      expect((await Bun.file(join(dir.path, FILE_NAME)).stat()).isFile()).toBe(true);
    } finally {
      await backend.close();
    }
  });

  test("a write is on disk when its put resolves: a second connection reads it", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, FILE_NAME);
    const backend = openAt(path, options());
    try {
      await backend.put(live("k", "committed", version(1)));
      const reader = openAt(path, options());
      try {
        expect((await reader.get("k"))?.value).toBe("committed");
      } finally {
        await reader.close();
      }
    } finally {
      await backend.close();
    }
  });
});

describe("sqlite reads of one turn", () => {
  test("share one read transaction, and each caller still gets its own key's record: present, absent, tombstone, expired, past the batch bound", async () => {
    await using dir = await tempDir();
    const clock = new ManualClock();
    const store = new SqliteBackend({ path: join(dir.path, FILE_NAME), sync: "normal", clock: clock.now, valueBytesMax: CONTRACT_VALUE_BYTES_MAX });
    try {
      const count = BATCH_ITEMS_MAX + 300;
      for (let i = 0; i < count; i += 4) {
        await store.put(live(`k${i}`, `v${i}`, version(clock.nowMs)));
        await store.put(tombstone(`k${i + 1}`, version(clock.nowMs)));
        await store.put(live(`k${i + 2}`, `short${i}`, version(clock.nowMs), clock.nowMs + 10));
      }
      clock.advance(20);
      // All asked in one turn, so they go in batches; every fourth key was never written.
      const read = await Promise.all(Array.from({ length: count }, (_, i) => store.get(`k${i}`)));
      read.forEach((record, i) => {
        if (i % 4 === 0) expect(record?.value).toBe(`v${i}`);
        else if (i % 4 === 1) expect(record?.tombstone).toBe(true);
        // Expired: still there, as the delete its expiry made.
        else if (i % 4 === 2) expect(record?.expiresAtMs).toBeLessThan(clock.nowMs);
        else expect(record).toBeUndefined();
        if (record !== undefined) expect(record.key).toBe(`k${i}`);
      });
    } finally {
      await store.close();
    }
  });

  test("a read of a closed store fails as closed, and reads asked before close are answered", async () => {
    await using dir = await tempDir();
    const store = new SqliteBackend({ path: join(dir.path, FILE_NAME), sync: "normal", ...options() });
    await store.put(live("k", "v"));
    const asked = store.get("k");
    await store.close();
    expect((await asked)?.value).toBe("v");
    await expect(store.get("k")).rejects.toMatchObject({ code: "closed" });
  });
});

describe("sqlite ring positions and segment figures", () => {
  const openAt = opener("normal");
  const records = Array.from({ length: 200 }, (_, i) => live(`key-${i}`, `v${i}`, version(1_700_000_000_000 + i)));

  test("a store that was not closed (kill -9) rebuilds its digests and count from the records on the next open", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, FILE_NAME);
    const first = openAt(path, options());
    for (const record of records) await first.put(record);
    const digests = Uint32Array.from(await first.segmentDigests());
    // Rows lost behind the store's back while it was down: the rebuilt figures must not count them.
    const direct = new Database(path);
    direct.run("DELETE FROM records WHERE key IN ('key-1', 'key-2')");
    direct.close();
    const second = openAt(path, options());
    try {
      expect(await second.count()).toBe(198);
      const expected = SegmentDigests.of(records.filter((r) => r.key !== "key-1" && r.key !== "key-2")).sums;
      expect(Uint32Array.from(await second.segmentDigests())).toEqual(expected);
      expect(expected).not.toEqual(digests);
    } finally {
      await second.close();
      await first.close().catch(() => undefined);
    }
  });

  test("rows deleted behind a running store's back are found by verifySegments, which corrects digests and count", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, FILE_NAME);
    const store = openAt(path, options());
    try {
      for (const record of records) await store.put(record);
      expect(await store.verifySegments(0, SEGMENT_COUNT)).toBe(0);
      const direct = new Database(path);
      direct.exec("PRAGMA busy_timeout = 5000");
      direct.run("DELETE FROM records WHERE key IN ('key-1', 'key-2', 'key-3')");
      direct.close();
      // Until verified, the store's figures still count the lost rows.
      expect(await store.count()).toBe(200);
      const lost = new Set(["key-1", "key-2", "key-3"].map(segmentOf));
      expect(await store.verifySegments(0, SEGMENT_COUNT / 2)).toBe([...lost].filter((s) => s < SEGMENT_COUNT / 2).length);
      expect(await store.verifySegments(SEGMENT_COUNT / 2, SEGMENT_COUNT / 2)).toBe([...lost].filter((s) => s >= SEGMENT_COUNT / 2).length);
      expect(await store.count()).toBe(197);
      expect(Uint32Array.from(await store.segmentDigests())).toEqual(SegmentDigests.of(records.filter((r) => !["key-1", "key-2", "key-3"].includes(r.key))).sums);
      expect(await store.verifySegments(0, SEGMENT_COUNT)).toBe(0);
    } finally {
      await store.close();
    }
  });

  test("a closed store keeps its digests for the next open without reading the records", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, FILE_NAME);
    const first = openAt(path, options());
    for (const record of records) await first.put(record);
    await first.close();
    const direct = new Database(path);
    const state = direct.query("SELECT clean FROM segment_state").get() as { clean: number };
    direct.close();
    expect(state.clean).toBe(1);
    const second = openAt(path, options());
    try {
      expect(await second.count()).toBe(200);
      expect(Uint32Array.from(await second.segmentDigests())).toEqual(SegmentDigests.of(records).sums);
    } finally {
      await second.close();
    }
  });

  test("a file from before ring positions is migrated on open: ring scans, digests and count work on its records", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, FILE_NAME);
    const old = new Database(path, { create: true });
    old.run(`CREATE TABLE records (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, version_wall_ms INTEGER NOT NULL,
      version_counter INTEGER NOT NULL, version_node TEXT NOT NULL, tombstone INTEGER NOT NULL, expires_at_ms INTEGER) WITHOUT ROWID`);
    const insert = old.query("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const r of records) insert.run(r.key, r.value, r.version.wallMs, r.version.counter, r.version.node, 0, null);
    old.close();
    const store = openAt(path, options());
    try {
      expect(await store.count()).toBe(200);
      expect(Uint32Array.from(await store.segmentDigests())).toEqual(SegmentDigests.of(records).sums);
      const walked = await store.scanRing(WHOLE_RING, undefined, 1000);
      expect(walked.map((r) => r.key)).toEqual(
        [...records].sort((a, b) => (ringPosition(a.key) < ringPosition(b.key) ? -1 : 1)).map((r) => r.key),
      );
      await store.put(live("key-new", "v"));
      expect(await store.count()).toBe(201);
    } finally {
      await store.close();
    }
  });

  test("lookups and ring scans use the table's ring order, listings the key index, purges theirs: never a walk of the table", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, FILE_NAME);
    const store = openAt(path, options());
    await store.put(live("k", "v"));
    await store.close();
    const direct = new Database(path);
    const plan = (sql: string) => (direct.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((row) => row.detail).join("; ");
    expect(plan("SELECT * FROM records NOT INDEXED WHERE ring = 3 AND key = 'k'")).toBe("SEARCH records USING PRIMARY KEY (ring=? AND key=?)");
    expect(plan("DELETE FROM records NOT INDEXED WHERE ring = 3 AND key = 'k' AND version_wall_ms = 1")).toBe("SEARCH records USING PRIMARY KEY (ring=? AND key=?)");
    expect(plan("SELECT * FROM records WHERE (ring, key) > (1, 'a') AND ring >= 1 AND ring <= 5 ORDER BY ring, key LIMIT 10")).toBe("SEARCH records USING PRIMARY KEY ((ring,key)>(?,?) AND ring<?)");
    expect(plan("SELECT key, value FROM records WHERE key > 'a' AND tombstone = 0 ORDER BY key LIMIT 10")).toBe("SEARCH records USING INDEX records_key (key>?)");
    expect(plan("SELECT key FROM records WHERE tombstone = 1 AND version_wall_ms < 5 LIMIT 10")).toContain("records_tombstone_age");
    expect(plan("SELECT key FROM records WHERE expires_at_ms <= 5 LIMIT 10")).toContain("records_expiry");
    expect(plan("SELECT COUNT(*) FROM records WHERE expires_at_ms <= 5 AND tombstone = 0")).toContain("records_expiry");
    expect(plan("DELETE FROM records WHERE (ring, key) IN (SELECT ring, key FROM records WHERE tombstone = 1 AND version_wall_ms < 5 LIMIT 10)")).not.toContain("SCAN records");
    direct.close();
  });

  test("a file keyed by key with a ring column is rewritten in ring order on open, records, digests and count unchanged", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, FILE_NAME);
    const old = new Database(path, { create: true });
    old.run(`CREATE TABLE records (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, version_wall_ms INTEGER NOT NULL,
      version_counter INTEGER NOT NULL, version_node TEXT NOT NULL, tombstone INTEGER NOT NULL, expires_at_ms INTEGER, ring INTEGER) WITHOUT ROWID`);
    old.run("CREATE INDEX records_ring ON records (ring, key)");
    old.run("CREATE INDEX records_expiry ON records (expires_at_ms) WHERE expires_at_ms IS NOT NULL");
    const insert = old.query("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    for (const r of records) insert.run(r.key, r.value, r.version.wallMs, r.version.counter, r.version.node, 0, null, storedRing(ringPosition(r.key)));
    insert.run("expiring", "v", 1, 1, "n", 0, 10_000_000_000_000, storedRing(ringPosition("expiring")));
    old.close();
    const store = openAt(path, options());
    try {
      expect(await store.count()).toBe(201);
      expect((await store.get("expiring"))?.expiresAtMs).toBe(10_000_000_000_000);
      const walked = await store.scanRing(WHOLE_RING, undefined, 1000);
      expect(walked).toHaveLength(201);
      expect(walked.map((r) => r.key)).toEqual([...walked.map((r) => r.key)].sort((a, b) => (ringPosition(a) < ringPosition(b) ? -1 : 1)));
      await store.put(live("key-new", "v"));
      expect(await store.count()).toBe(202);
    } finally {
      await store.close();
    }
    const direct = new Database(path);
    try {
      const columns = direct.query("SELECT name, pk FROM pragma_table_info('records') WHERE pk > 0 ORDER BY pk").all() as { name: string }[];
      expect(columns.map((c) => c.name)).toEqual(["ring", "key"]);
      const objects = (direct.query("SELECT name FROM sqlite_schema WHERE tbl_name LIKE 'records%' ORDER BY name").all() as { name: string }[]).map((o) => o.name);
      expect(objects).toEqual(["records", "records_expiry", "records_key", "records_tombstone_age"]);
    } finally {
      direct.close();
    }
  });
});
