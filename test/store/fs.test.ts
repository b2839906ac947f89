// Holds the fs backend to the Backend contract, and to its own promises: strict parsing, atomic writes, no overwrite of a corrupt file.
import { describe, expect, test } from "bun:test";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BackendOptions } from "../../src/store/backend.ts";
import { StoreError } from "../../src/store/errors.ts";
import { FsBackend } from "../../src/store/fs.ts";
import { tempDir } from "../support/temp-dir.ts";
import { CONTRACT_VALUE_BYTES_MAX, ManualClock, backendContract, durabilityContract, inTempDir, live, tombstone, version } from "./conformance.ts";

const FILE_NAME = "store.json";

function openAt(path: string, options: BackendOptions): FsBackend {
  return new FsBackend({ ...options, path });
}

function options(): BackendOptions {
  return { clock: new ManualClock().now, valueBytesMax: CONTRACT_VALUE_BYTES_MAX };
}

describe("fs backend", () => {
  backendContract(inTempDir(openAt, FILE_NAME));

  durabilityContract(openAt, FILE_NAME);

  describe("corrupt files", () => {
    const record = (entry: unknown) => JSON.stringify({ format: "limedb-fs/1", records: { k: entry } });
    const good = { value: "v", version: [1, 0, "http://127.0.0.1:1"], tombstone: false, expiresAtMs: null };

    test.each([
      ["text that is not JSON", "{ not json"],
      ["an empty file", ""],
      ["a JSON array", "[]"],
      ["JSON null", "null"],
      ["an object without the format tag", JSON.stringify({ records: {} })],
      ["another format", JSON.stringify({ format: "limedb-fs/2", records: {} })],
      ["records that are an array", JSON.stringify({ format: "limedb-fs/1", records: [] })],
      ["a record that is a number", record(5)],
      ["a record that is null", record(null)],
      ["a record without a version", record({ ...good, version: undefined })],
      ["a record with a two-part version", record({ ...good, version: [1, 0] })],
      ["a record with a fractional wall time", record({ ...good, version: [1.5, 0, "n"] })],
      ["a record with a numeric value", record({ ...good, value: 7 })],
      ["a record with a string tombstone flag", record({ ...good, tombstone: "false" })],
      ["a record with a missing expiry field", record({ value: "v", version: [1, 0, "n"], tombstone: false })],
    ])("a file holding %s is refused at open with code corrupt naming the file, and left unchanged", async (_name, text) => {
      await using dir = await tempDir();
      const path = join(dir.path, FILE_NAME);
      await writeFile(path, text);
      let thrown: unknown;
      try {
        openAt(path, options());
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(StoreError);
      expect(thrown).toMatchObject({ code: "corrupt" });
      expect((thrown as StoreError).message).toContain(path);
      expect(await readFile(path, "utf8")).toBe(text);
      expect(await readdir(dir.path)).toEqual([FILE_NAME]);
    });

    test.each([
      ["a malformed record", JSON.stringify({ format: "limedb-fs/1", records: { "secret-key-q7": { value: "secret-value-q7", version: [1, 0] } } })],
      ["text cut off after a key and value", '{"format":"limedb-fs/1","records":{"secret-key-q7":{"value":secret-value-q7'],
    ])("the corrupt error for %s names the file and the record's position, never its key or value", async (_name, text) => {
      await using dir = await tempDir();
      const path = join(dir.path, FILE_NAME);
      await writeFile(path, text);
      const thrown = (() => {
        try {
          openAt(path, options());
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(thrown).toMatchObject({ code: "corrupt" });
      const message = (thrown as StoreError).message;
      expect(message).toContain(path);
      expect(message).not.toContain("secret-key-q7");
      expect(message).not.toContain("secret-value-q7");
    });

    test("a file that turns corrupt while open fails reads and writes with code corrupt and is never overwritten", async () => {
      await using dir = await tempDir();
      const path = join(dir.path, FILE_NAME);
      const backend = openAt(path, options());
      try {
        await backend.put(live("k", "v"));
        const garbage = "\u0000\u0001 definitely not a store";
        await writeFile(path, garbage);
        const operations = [() => backend.get("k"), () => backend.put(live("j", "v")), () => backend.count(), () => backend.page(0, 1, Number.POSITIVE_INFINITY), () => backend.purge(0), () => backend.check()];
        for (const operation of operations) await expect(operation()).rejects.toMatchObject({ code: "corrupt" });
        expect(await readFile(path, "utf8")).toBe(garbage);
      } finally {
        await backend.close();
      }
    });

    test("a path that is a folder is refused at open with code io", async () => {
      await using dir = await tempDir();
      const path = join(dir.path, FILE_NAME);
      await mkdir(path);
      expect(() => openAt(path, options())).toThrow(expect.objectContaining({ name: "StoreError", code: "io", message: expect.stringContaining(path) }));
    });
  });

  describe("atomic writes", () => {
    test("no temporary files are left in the folder after concurrent writes, deletes and a purge", async () => {
      await using dir = await tempDir();
      const clock = new ManualClock();
      const path = join(dir.path, FILE_NAME);
      const backend = openAt(path, { clock: clock.now, valueBytesMax: CONTRACT_VALUE_BYTES_MAX });
      try {
        await Promise.all(Array.from({ length: 100 }, (_, i) => backend.put(live(`k${i}`, "v", version(clock.nowMs)))));
        for (let i = 0; i < 10; i++) await backend.put(tombstone(`k${i}`, version(clock.nowMs + 1)));
        expect(await backend.purge(clock.nowMs + 2)).toBe(10);
        expect(await readdir(dir.path)).toEqual([FILE_NAME]);
        expect(await backend.count()).toBe(90);
      } finally {
        await backend.close();
      }
    });

    test("the file on disk is one JSON document tagged with its format", async () => {
      await using dir = await tempDir();
      const path = join(dir.path, FILE_NAME);
      const backend = openAt(path, options());
      try {
        await backend.put(live("k", "v", version(7, 1, "http://127.0.0.1:1"), 4_102_444_800_000));
        const doc: unknown = JSON.parse(await readFile(path, "utf8"));
        expect(doc).toEqual({ format: "limedb-fs/1", records: { k: { value: "v", version: [7, 1, "http://127.0.0.1:1"], tombstone: false, expiresAtMs: 4_102_444_800_000 } } });
      } finally {
        await backend.close();
      }
    });

    test("a write that changes nothing leaves the file alone, and one that changes something replaces it", async () => {
      await using dir = await tempDir();
      const path = join(dir.path, FILE_NAME);
      const backend = openAt(path, options());
      try {
        await backend.put(live("k", "v", version(10)));
        // A rewrite goes through a new file renamed over the old one, so it shows as a new inode.
        const inode = (await stat(path)).ino;
        expect((await backend.put(live("k", "older", version(5)))).applied).toBe(false);
        expect(await backend.purge(0)).toBe(0);
        expect((await stat(path)).ino).toBe(inode);
        expect((await backend.put(live("k", "newer", version(11)))).applied).toBe(true);
        expect((await stat(path)).ino).not.toBe(inode);
      } finally {
        await backend.close();
      }
    });
  });
});
