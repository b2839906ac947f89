// HintStore: hints kept durably in SQLite per target, in the order written, with no file until the first hint.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { HintStore, type HintDropReason, type HintStoreOptions } from "../../src/node/hint-store.ts";
import { toWire } from "../../src/node/record-wire.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { START_MS } from "../support/app.ts";
import { tempDir } from "../support/temp-dir.ts";

const T1 = "http://127.0.2.1:8484";
const T2 = "http://127.0.2.2:8484";

function record(key: string, value: string, wallMs = START_MS, extra: Partial<StoredRecord> = {}): StoredRecord {
  return { key, value, version: { wallMs, counter: 0, node: "http://127.0.2.9:8484" }, tombstone: false, expiresAtMs: undefined, ...extra };
}

/** A hint store on a file in a fresh folder, closed when the test's scope ends. */
async function fileHints(options: HintStoreOptions = {}) {
  const dir = await tempDir();
  const path = join(dir.path, "data", "node.hints.sqlite");
  const opened: HintStore[] = [];
  const open = () => {
    const hints = new HintStore(path, () => START_MS, options);
    opened.push(hints);
    return hints;
  };
  return {
    path,
    open,
    async [Symbol.asyncDispose]() {
      for (const hints of opened) hints.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

describe("HintStore", () => {
  test("creates no file, nor its folder, until the first hint", async () => {
    await using files = await fileHints();
    const hints = files.open();
    expect([hints.count(), hints.batch(T1, 10), hints.backlog()]).toEqual([0, [], new Map()]);
    hints.remove([1, 2]);
    expect(existsSync(dirname(files.path))).toBe(false);
    hints.add(T1, record("a", "1"));
    expect(existsSync(files.path)).toBe(true);
  });

  test("keeps hints in the order they were written, per target", async () => {
    await using files = await fileHints();
    const hints = files.open();
    const written = [record("b", "1"), record("a", "2"), record("b", "3", START_MS - 10)];
    hints.add(T1, written[0]!);
    hints.add(T2, record("z", "other target"));
    hints.add(T1, written[1]!);
    hints.add(T1, written[2]!);
    expect(hints.batch(T1, 10).map((hint) => hint.record)).toEqual(written);
    expect(hints.batch(T1, 2).map((hint) => hint.record)).toEqual(written.slice(0, 2));
    expect(hints.batch(T2, 10).map((hint) => [hint.target, hint.record.value])).toEqual([[T2, "other target"]]);
    expect(hints.backlog()).toEqual(new Map([[T1, 3], [T2, 1]]));
    expect(hints.count()).toBe(4);
  });

  test("keeps every field of a record: tombstones, expiry, the whole version", async () => {
    await using files = await fileHints();
    const hints = files.open();
    const tombstone = record("gone", "", START_MS + 5, { tombstone: true, version: { wallMs: START_MS + 5, counter: 7, node: T2 } });
    const expiring = record("soon", "ünïcødé 🍋", START_MS, { expiresAtMs: START_MS + 60_000 });
    hints.add(T1, tombstone);
    hints.add(T1, expiring);
    expect(hints.batch(T1, 10).map((hint) => hint.record)).toEqual([tombstone, expiring]);
  });

  test("hints survive closing and reopening the file, in order", async () => {
    await using files = await fileHints();
    const first = files.open();
    const written = Array.from({ length: 5 }, (_, i) => record(`k${i}`, `v${i}`));
    for (const r of written) first.add(T1, r);
    first.add(T2, record("t2", "x"));
    first.close();
    const reopened = files.open();
    expect(reopened.count()).toBe(6);
    expect(reopened.batch(T1, 10).map((hint) => hint.record)).toEqual(written);
    // New hints go after the old ones.
    reopened.add(T1, record("later", "v"));
    expect(reopened.batch(T1, 10).map((hint) => hint.record.key)).toEqual(["k0", "k1", "k2", "k3", "k4", "later"]);
  });

  test("remove drops exactly the given hints, and removed hints stay gone after a reopen", async () => {
    await using files = await fileHints();
    const hints = files.open();
    for (let i = 0; i < 4; i++) hints.add(T1, record(`k${i}`, "v"));
    const [first, second] = hints.batch(T1, 2);
    hints.remove([first!.id, second!.id]);
    expect(hints.batch(T1, 10).map((hint) => hint.record.key)).toEqual(["k2", "k3"]);
    hints.close();
    expect(files.open().batch(T1, 10).map((hint) => hint.record.key)).toEqual(["k2", "k3"]);
  });

  test("an in-memory store keeps hints without any file", () => {
    const hints = new HintStore(":memory:", () => START_MS);
    hints.add(T1, record("a", "1"));
    expect(hints.batch(T1, 10).map((hint) => hint.record.value)).toEqual(["1"]);
    expect(existsSync(":memory:")).toBe(false);
    hints.close();
  });
});

/** The bytes a hint of this record takes in the store: its record as JSON. */
function bytesOf(r: StoredRecord): number {
  return Buffer.byteLength(JSON.stringify(toWire(r)), "utf8");
}

/** A record whose stored JSON is exactly `bytes` long, so caps can be met to the byte. */
function recordOfBytes(key: string, bytes: number): StoredRecord {
  const bare = record(key, "");
  return record(key, "x".repeat(bytes - bytesOf(bare)));
}

describe("HintStore caps", () => {
  const HINT_BYTES = 1000;

  test("tallies bytes per target and in all, as hints come and go, and again after a reopen", async () => {
    await using files = await fileHints();
    const hints = files.open();
    const a = record("a", "ünïcødé 🍋");
    const b = record("b", "plain");
    hints.add(T1, a);
    hints.add(T1, b);
    hints.add(T2, b);
    expect([hints.bytes(T1), hints.bytes(T2), hints.bytes()]).toEqual([bytesOf(a) + bytesOf(b), bytesOf(b), bytesOf(a) + 2 * bytesOf(b)]);
    hints.remove([hints.batch(T1, 1)[0]!.id]);
    expect([hints.bytes(T1), hints.bytes()]).toEqual([bytesOf(b), 2 * bytesOf(b)]);
    hints.close();
    const reopened = files.open();
    expect([reopened.bytes(T1), reopened.bytes(T2), reopened.count()]).toEqual([bytesOf(b), bytesOf(b), 2]);
    expect(reopened.backlog()).toEqual(new Map([[T1, 1], [T2, 1]]));
  });

  test("a hint that would pass its target's byte cap is dropped and counted; other targets still get theirs", async () => {
    const drops: [HintDropReason, number][] = [];
    await using files = await fileHints({ bytesPerTargetMax: 3 * HINT_BYTES, onDrop: (reason, n) => drops.push([reason, n]) });
    const hints = files.open();
    for (let i = 0; i < 3; i++) expect(hints.add(T1, recordOfBytes(`k${i}`, HINT_BYTES))).toBe(true);
    expect(hints.add(T1, recordOfBytes("one-too-many", HINT_BYTES))).toBe(false);
    expect(hints.add(T2, recordOfBytes("elsewhere", HINT_BYTES))).toBe(true);
    // The oldest are kept, in order: the replica gets its missed writes from the first on.
    expect(hints.batch(T1, 10).map((hint) => hint.record.key)).toEqual(["k0", "k1", "k2"]);
    expect([hints.droppedCount("bytes_cap"), drops]).toEqual([1, [["bytes_cap", 1]]]);
    // Delivery makes room again.
    hints.remove([hints.batch(T1, 1)[0]!.id]);
    expect(hints.add(T1, recordOfBytes("k3", HINT_BYTES))).toBe(true);
  });

  test("a hint that would pass the total byte cap is dropped and counted, whatever its target", async () => {
    await using files = await fileHints({ bytesMax: 2 * HINT_BYTES });
    const hints = files.open();
    expect(hints.add(T1, recordOfBytes("a", HINT_BYTES))).toBe(true);
    expect(hints.add(T2, recordOfBytes("b", HINT_BYTES))).toBe(true);
    expect(hints.add(T2, recordOfBytes("c", 1 + bytesOf(record("c", ""))))).toBe(false);
    expect([hints.count(), hints.bytes(), hints.droppedCount("bytes_cap")]).toEqual([2, 2 * HINT_BYTES, 1]);
  });

  test("a hint past the row cap is dropped and counted", async () => {
    await using files = await fileHints({ rowsMax: 2 });
    const hints = files.open();
    expect([hints.add(T1, record("a", "1")), hints.add(T2, record("b", "1")), hints.add(T1, record("c", "1"))]).toEqual([true, true, false]);
    expect(hints.droppedCount("rows_cap")).toBe(1);
  });

  test("the caps hold across a reopen: the file's backlog is tallied when it opens", async () => {
    await using files = await fileHints({ bytesPerTargetMax: 2 * HINT_BYTES });
    const first = files.open();
    first.add(T1, recordOfBytes("a", HINT_BYTES));
    first.add(T1, recordOfBytes("b", HINT_BYTES));
    first.close();
    const reopened = files.open();
    expect(reopened.add(T1, recordOfBytes("c", HINT_BYTES))).toBe(false);
    expect(reopened.droppedCount("bytes_cap")).toBe(1);
  });

  test("dropTarget removes every hint of one target, counted under its reason", async () => {
    await using files = await fileHints();
    const hints = files.open();
    for (let i = 0; i < 3; i++) hints.add(T1, record(`k${i}`, "v"));
    hints.add(T2, record("z", "v"));
    hints.dropTarget(T1, "forgotten");
    expect([hints.backlog(), hints.bytes(T1), hints.droppedCount("forgotten")]).toEqual([new Map([[T2, 1]]), 0, 3]);
    hints.close();
    expect(files.open().backlog()).toEqual(new Map([[T2, 1]]));
  });
});
