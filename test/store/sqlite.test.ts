// Holds the sqlite backend to the Backend contract in both sync modes, and checks it refuses files that are not its own.
import { describe, expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SQLITE_SYNC_MODES, type SqliteSyncMode } from "../../src/config/settings.ts";
import type { BackendOptions } from "../../src/store/backend.ts";
import { StoreError } from "../../src/store/errors.ts";
import { SqliteBackend } from "../../src/store/sqlite.ts";
import { tempDir } from "../support/temp-dir.ts";
import { CONTRACT_VALUE_BYTES_MAX, ManualClock, backendContract, durabilityContract, inTempDir, live, version } from "./conformance.ts";

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
