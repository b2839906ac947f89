// The Backend contract: one suite that memory, fs and sqlite each run, so they cannot drift apart.
import { ManualClock, START_MS } from "../support/clock.ts";
import { describe, expect, test } from "bun:test";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Backend, BackendOptions } from "../../src/store/backend.ts";
import { StoreError } from "../../src/store/errors.ts";
import { KEY_BYTES_MAX } from "../../src/store/limits.ts";
import { EXPIRED_VALUE_KEPT_MS_MIN, isLive, type StoredRecord, type Version } from "../../src/store/record.ts";
import { tempDir } from "../support/temp-dir.ts";
import { RING_MAX, WHOLE_RING, type RingRange } from "../../src/ring/range.ts";
import { ringPosition, SegmentDigests, segmentOf } from "../../src/store/segments.ts";

/** An open backend plus whatever it needs cleaned up (its temp dir); disposing closes both. */
export interface OpenedBackend extends AsyncDisposable {
  readonly backend: Backend;
}

export type OpenBackend = (options: BackendOptions) => Promise<OpenedBackend>;

/** A page budget no test store reaches: the tests that are not about the byte budget page by count alone. */
const ANY_BYTES = Number.POSITIVE_INFINITY;

/** The value limit every contract test runs with: small enough to test cheaply, large enough for 1 MiB. */
export const CONTRACT_VALUE_BYTES_MAX = 1024 * 1024;

const NODE_A = "http://127.0.0.1:8484";
const NODE_B = "http://127.0.0.2:8484";
export { ManualClock };

export function version(wallMs: number, counter = 0, node = NODE_A): Version {
  return { wallMs, counter, node };
}

export function live(key: string, value: string, v: Version = version(START_MS), expiresAtMs?: number): StoredRecord {
  return { key, value, version: v, tombstone: false, expiresAtMs };
}

export function tombstone(key: string, v: Version): StoredRecord {
  return { key, value: "", version: v, tombstone: true, expiresAtMs: undefined };
}

async function expectStoreError(promise: Promise<unknown>, code: StoreError["code"]): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(StoreError);
  await expect(promise).rejects.toMatchObject({ code });
}

/** Keys that must round-trip unchanged: URL-special characters, spaces, non-Latin scripts, astral characters. */
const AWKWARD_KEYS = [
  "a/b/c",
  "what?x=1&y=2",
  "#fragment",
  "100%",
  "%2F already encoded",
  "  leading and trailing spaces  ",
  "ключ",
  "鍵",
  "emoji 😀🍋",
  "combining é vs é",
  "__proto__",
  "constructor",
  "tab\tand\nnewline",
];

/** What a backend offers beyond the interface's required methods, so the contract holds it to exactly that. */
export interface BackendTraits {
  /** Whether it reads at once (getSync): memory does; a store that reads a file does not. */
  readonly readsAtOnce: boolean;
}

export function backendContract(open: OpenBackend, traits: BackendTraits = { readsAtOnce: false }): void {
  const openWith = (clock: ManualClock) => open({ clock: clock.now, valueBytesMax: CONTRACT_VALUE_BYTES_MAX });

  describe("writing many records together", () => {
    test("putMany stores each record as put would, in order, its outcomes included", async () => {
      const clock = new ManualClock();
      await using many = await openWith(clock);
      await using one = await openWith(clock);
      const first = [live("a", "v1", version(START_MS)), live("b", "v1", version(START_MS)), live("gone", "v", version(START_MS))];
      const second = [
        live("a", "v2", version(START_MS + 1)),
        live("b", "older", version(START_MS - 1)),
        tombstone("gone", version(START_MS + 1)),
        live("new", "v", version(START_MS), clock.nowMs + 10),
        live("new", "again", version(START_MS + 2)),
      ];
      for (const batch of [first, second]) {
        const outcomes = await many.backend.putMany(batch);
        const alone = [];
        for (const record of batch) alone.push(await one.backend.put(record));
        expect(outcomes).toEqual(alone);
      }
      expect(await many.backend.putMany([])).toEqual([]);
      for (const key of ["a", "b", "gone", "new"]) expect(await many.backend.get(key)).toEqual(await one.backend.get(key));
      expect((await many.backend.get("b"))?.value).toBe("v1");
      expect(await many.backend.count()).toBe(await one.backend.count());
      expect(await many.backend.segmentDigests()).toEqual(await one.backend.segmentDigests());
    });

    test("putMany with one record past the limits stores none of them", async () => {
      await using store = await openWith(new ManualClock());
      await expectStoreError(store.backend.putMany([live("fine", "v"), live("big", "v".repeat(CONTRACT_VALUE_BYTES_MAX + 1))]), "too_large");
      expect(await store.backend.get("fine")).toBeUndefined();
    });

    test("putMany after close fails with code closed", async () => {
      await using store = await openWith(new ManualClock());
      await store.backend.close();
      await expectStoreError(store.backend.putMany([live("k", "v")]), "closed");
    });
  });

  describe("reading many keys together", () => {
    test("getMany answers each key as get does, in order: live, missing, tombstone, expired, repeated, none", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      await store.backend.put(live("k", "v"));
      await store.backend.put(tombstone("gone", version(START_MS)));
      await store.backend.put(live("short", "v", version(clock.nowMs), clock.nowMs + 10));
      const keys = ["short", "never-written", "k", "gone", "k"];
      const one = async () => Promise.all(keys.map((key) => store.backend.get(key)));
      expect(await store.backend.getMany(keys)).toEqual(await one());
      expect((await store.backend.getMany(keys)).map((record) => record?.key)).toEqual(["short", undefined, "k", "gone", "k"]);
      clock.advance(10);
      expect(await store.backend.getMany(keys)).toEqual(await one());
      // Expired, it is still there, as the delete its expiry made.
      expect((await store.backend.getMany(["short"]))[0]?.expiresAtMs).toBe(clock.nowMs);
      expect(await store.backend.getMany([])).toEqual([]);
    });

    test("getMany after close fails with code closed", async () => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(live("k", "v"));
      await store.backend.close();
      await expectStoreError(store.backend.getMany(["k", "other"]), "closed");
    });
  });

  describe("reading at once", () => {
    test(traits.readsAtOnce ? "getSync is offered" : "getSync is not offered", async () => {
      await using store = await openWith(new ManualClock());
      expect(typeof store.backend.getSync).toBe(traits.readsAtOnce ? "function" : "undefined");
    });

    if (!traits.readsAtOnce) return;

    test("getSync answers as get does: live, missing, tombstone, expired", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      const getSync = store.backend.getSync!;
      const short = live("short", "v", version(clock.nowMs), clock.nowMs + 10);
      await store.backend.put(live("k", "v"));
      await store.backend.put(tombstone("gone", version(START_MS)));
      await store.backend.put(short);
      for (const key of ["k", "gone", "short", "never-written"]) expect(getSync(key)).toEqual(await store.backend.get(key));
      expect(getSync("short")).toEqual(short);
      expect(getSync("gone")?.tombstone).toBe(true);
      clock.advance(10);
      expect(getSync("short")).toEqual(await store.backend.get("short"));
      expect(getSync("short")?.expiresAtMs).toBe(clock.nowMs);
    });

    test("getSync after close throws code closed", async () => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(live("k", "v"));
      await store.backend.close();
      expect(() => store.backend.getSync!("k")).toThrow(StoreError);
      expect(() => store.backend.getSync!("k")).toThrow(expect.objectContaining({ code: "closed" }));
    });
  });

  describe("reads and writes", () => {
    test("a put record is returned by get", async () => {
      await using store = await openWith(new ManualClock());
      const record = live("k", "v");
      expect(await store.backend.put(record)).toEqual({ applied: true, replacedLive: false });
      expect(await store.backend.get("k")).toEqual(record);
    });

    test("a missing key reads as undefined", async () => {
      await using store = await openWith(new ManualClock());
      expect(await store.backend.get("never-written")).toBeUndefined();
    });

    test("a newer write overwrites the value and reports it replaced a live value", async () => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(live("k", "old", version(START_MS)));
      expect(await store.backend.put(live("k", "new", version(START_MS + 1)))).toEqual({ applied: true, replacedLive: true });
      expect((await store.backend.get("k"))?.value).toBe("new");
      expect(await store.backend.count()).toBe(1);
    });

    test.each(AWKWARD_KEYS)("the key %j round-trips and is listed as written", async (key) => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(live(key, `value of ${key}`));
      expect((await store.backend.get(key))?.key).toBe(key);
      expect((await store.backend.get(key))?.value).toBe(`value of ${key}`);
      expect((await store.backend.page(0, 10, ANY_BYTES)).entries).toEqual([{ key, value: `value of ${key}` }]);
    });

    test("values with every kind of character round-trip exactly", async () => {
      await using store = await openWith(new ManualClock());
      const value = `quotes " ' \\ nul \u0000 emoji 😀 bom \uFEFF json {"a":[1]}`;
      await store.backend.put(live("k", value));
      expect((await store.backend.get("k"))?.value).toBe(value);
    });

    test("a 1 MiB value round-trips", async () => {
      await using store = await openWith(new ManualClock());
      const value = "x".repeat(CONTRACT_VALUE_BYTES_MAX);
      await store.backend.put(live("big", value));
      expect((await store.backend.get("big"))?.value).toBe(value);
    });
  });

  describe("limits", () => {
    test.each([
      ["a value one byte over the limit", live("k", "x".repeat(CONTRACT_VALUE_BYTES_MAX + 1))],
      ["a value over the limit in UTF-8 bytes though not in characters", live("k", "é".repeat(CONTRACT_VALUE_BYTES_MAX / 2 + 1))],
      ["a key over 1024 UTF-8 bytes", live("k".repeat(KEY_BYTES_MAX + 1), "v")],
      ["a key of 1024 characters that is over 1024 UTF-8 bytes", live(`é${"k".repeat(KEY_BYTES_MAX - 1)}`, "v")],
      ["an empty key", live("", "v")],
    ])("%s is refused with too_large and stores nothing", async (_name, record) => {
      await using store = await openWith(new ManualClock());
      await expectStoreError(store.backend.put(record), "too_large");
      expect(await store.backend.get(record.key)).toBeUndefined();
      expect(await store.backend.count()).toBe(0);
    });

    test("a key of exactly 1024 UTF-8 bytes is accepted", async () => {
      await using store = await openWith(new ManualClock());
      const key = `é${"k".repeat(KEY_BYTES_MAX - 2)}`;
      await store.backend.put(live(key, "v"));
      expect((await store.backend.get(key))?.value).toBe("v");
    });
  });

  describe("tombstones", () => {
    test("a delete is a tombstone put: get returns the tombstone, page and count leave it out", async () => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(live("gone", "v", version(START_MS)));
      await store.backend.put(live("kept", "v", version(START_MS)));
      const deletion = tombstone("gone", version(START_MS + 1));
      expect(await store.backend.put(deletion)).toEqual({ applied: true, replacedLive: true });
      expect(await store.backend.get("gone")).toEqual(deletion);
      expect(await store.backend.page(0, 10, ANY_BYTES)).toEqual({ entries: [{ key: "kept", value: "v" }], total: 1 });
      expect(await store.backend.count()).toBe(1);
    });

    test("deleting a key that was never written is applied but replaced nothing live", async () => {
      await using store = await openWith(new ManualClock());
      expect(await store.backend.put(tombstone("k", version(START_MS)))).toEqual({ applied: true, replacedLive: false });
    });

    test("deleting an already deleted key replaced nothing live", async () => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(live("k", "v", version(START_MS)));
      await store.backend.put(tombstone("k", version(START_MS + 1)));
      expect(await store.backend.put(tombstone("k", version(START_MS + 2)))).toEqual({ applied: true, replacedLive: false });
    });

    test("a write over a tombstone brings the key back and replaced nothing live", async () => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(tombstone("k", version(START_MS)));
      expect(await store.backend.put(live("k", "back", version(START_MS + 1)))).toEqual({ applied: true, replacedLive: false });
      expect(await store.backend.page(0, 10, ANY_BYTES)).toEqual({ entries: [{ key: "k", value: "back" }], total: 1 });
    });
  });

  describe("versions: last write wins", () => {
    test.each([
      ["an older wall time", version(START_MS - 1, 9)],
      ["the same wall time with a lower counter", version(START_MS, 1)],
      ["an equal version", version(START_MS, 2, NODE_B)],
      ["the same wall time and counter from a lower node URL", version(START_MS, 2, NODE_A)],
    ])("a write with %s is not applied", async (_name, older) => {
      await using store = await openWith(new ManualClock());
      const stored = live("k", "winner", version(START_MS, 2, NODE_B));
      await store.backend.put(stored);
      expect(await store.backend.put(live("k", "loser", older))).toEqual({ applied: false, replacedLive: false });
      expect(await store.backend.put(tombstone("k", older))).toEqual({ applied: false, replacedLive: false });
      expect(await store.backend.get("k")).toEqual(stored);
    });

    test.each([
      ["a newer wall time", version(START_MS + 1, 0, NODE_A)],
      ["the same wall time with a higher counter", version(START_MS, 3, NODE_A)],
      ["the same wall time and counter from a higher node URL", version(START_MS, 2, "http://127.0.0.3:8484")],
    ])("a write with %s is applied", async (_name, newer) => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(live("k", "first", version(START_MS, 2, NODE_B)));
      expect(await store.backend.put(live("k", "second", newer))).toEqual({ applied: true, replacedLive: true });
      expect(await store.backend.get("k")).toEqual(live("k", "second", newer));
    });

    test("a tombstone is not undone by an older write that arrives late", async () => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(tombstone("k", version(START_MS + 10)));
      expect((await store.backend.put(live("k", "stale", version(START_MS)))).applied).toBe(false);
      expect((await store.backend.get("k"))?.tombstone).toBe(true);
      expect(await store.backend.count()).toBe(0);
    });

    test("the same key written many times in one batch keeps the newest version whatever the arrival order", async () => {
      await using store = await openWith(new ManualClock());
      const wallTimes = [5, 1, 9, 3, 7, 2, 8];
      await Promise.all(wallTimes.map((ms) => store.backend.put(live("k", `at ${ms}`, version(START_MS + ms)))));
      expect((await store.backend.get("k"))?.value).toBe("at 9");
    });
  });

  describe("expiry", () => {
    test("a record is live until its expiry and absent from page and count from then on; get still gives it, as the delete it is", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      const expiresAtMs = clock.nowMs + 1000;
      await store.backend.put(live("short", "v", version(clock.nowMs), expiresAtMs));
      await store.backend.put(live("forever", "v", version(clock.nowMs)));
      clock.advance(999);
      expect((await store.backend.get("short"))?.expiresAtMs).toBe(expiresAtMs);
      expect(await store.backend.count()).toBe(2);
      clock.advance(1);
      expect(isLive(await store.backend.get("short"), clock.nowMs)).toBe(false);
      expect((await store.backend.get("short"))?.expiresAtMs).toBe(expiresAtMs);
      expect(await store.backend.page(0, 10, ANY_BYTES)).toEqual({ entries: [{ key: "forever", value: "v" }], total: 1 });
      expect(await store.backend.count()).toBe(1);
    });

    test("a write over an expired value replaced nothing live", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      await store.backend.put(live("k", "v", version(clock.nowMs), clock.nowMs + 10));
      clock.advance(10);
      expect(await store.backend.put(live("k", "again", version(clock.nowMs)))).toEqual({ applied: true, replacedLive: false });
      expect((await store.backend.get("k"))?.value).toBe("again");
      expect(await store.backend.count()).toBe(1);
    });

    test("an expired record keeps its version, as a tombstone does: an older write (a replica that missed the expiring one) is not applied over it", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      await store.backend.put(live("k", "old", version(clock.nowMs)));
      await store.backend.put(live("k", "v", version(clock.nowMs + 1), clock.nowMs + 10));
      clock.advance(10);
      expect(await store.backend.put(live("k", "old", version(clock.nowMs - 10)))).toEqual({ applied: false, replacedLive: false });
      expect(isLive(await store.backend.get("k"), clock.nowMs)).toBe(false);
      expect(await store.backend.count()).toBe(0);
      // A newer write brings the key back.
      expect(await store.backend.put(live("k", "new", version(clock.nowMs)))).toEqual({ applied: true, replacedLive: false });
      expect((await store.backend.get("k"))?.value).toBe("new");
    });

    test("a newer write without expiry keeps a key that would have expired", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      await store.backend.put(live("k", "v", version(clock.nowMs), clock.nowMs + 10));
      expect(await store.backend.count()).toBe(1);
      await store.backend.put(live("k", "kept", version(clock.nowMs + 1)));
      clock.advance(100);
      expect((await store.backend.get("k"))?.value).toBe("kept");
      expect(await store.backend.page(0, 10, ANY_BYTES)).toEqual({ entries: [{ key: "k", value: "kept" }], total: 1 });
    });

    test("purge removes tombstones and records that expired before the cutoff, drops the values of those that expired EXPIRED_VALUE_KEPT_MS_MIN ago, keeps the rest, and returns the count", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      const t = clock.nowMs;
      await store.backend.put(live("expired-long-ago", "v", version(t - 1000), t - 600));
      await store.backend.put(live("expired", "v", version(t), t + 5));
      await store.backend.put(live("expires-later", "v", version(t), t + 1_000_000_000));
      await store.backend.put(live("live", "v", version(t)));
      await store.backend.put(tombstone("old-tombstone", version(t - 500)));
      await store.backend.put(tombstone("recent-tombstone", version(t + 100)));
      clock.advance(10);
      expect(await store.backend.purge(t - 100)).toBe(2);
      const digests = Uint32Array.from(await store.backend.segmentDigests());
      expect(await store.backend.get("old-tombstone")).toBeUndefined();
      expect(await store.backend.get("expired-long-ago")).toBeUndefined();
      expect((await store.backend.get("recent-tombstone"))?.tombstone).toBe(true);
      // Expired since the cutoff: the delete it is stays, its value too for a while (a node whose clock is behind reads it live).
      expect(await store.backend.get("expired")).toEqual(live("expired", "v", version(t), t + 5));
      clock.advance(EXPIRED_VALUE_KEPT_MS_MIN);
      expect(await store.backend.purge(t - 100)).toBe(0);
      expect(await store.backend.get("expired")).toEqual(live("expired", "", version(t), t + 5));
      // Its fingerprint holds no value: no digest moved, and an older write is still refused.
      expect(Uint32Array.from(await store.backend.segmentDigests())).toEqual(digests);
      expect((await store.backend.put(live("expired", "older", version(t - 1)))).applied).toBe(false);
      expect((await store.backend.page(0, 10, ANY_BYTES)).entries.map((e) => e.key)).toEqual(["expires-later", "live"]);
      // With the tombstone gone the key's history is forgotten, so even an old version may write it again.
      expect((await store.backend.put(live("old-tombstone", "again", version(t - 1000)))).applied).toBe(true);
      // Once its expiry is older than the cutoff, it goes too.
      expect(await store.backend.purge(t + 6)).toBe(1);
      expect(await store.backend.get("expired")).toBeUndefined();
    });

    test("a record that arrives expired EXPIRED_VALUE_KEPT_MS_MIN ago or more is stored without its value, and one expired less long ago with it", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      const t = clock.nowMs;
      expect((await store.backend.put(live("long-ago", "v", version(t - 2 * EXPIRED_VALUE_KEPT_MS_MIN), t - EXPIRED_VALUE_KEPT_MS_MIN))).applied).toBe(true);
      await store.backend.put(live("just-now", "v", version(t - 10), t - 1));
      expect((await store.backend.get("long-ago"))?.value).toBe("");
      expect((await store.backend.get("just-now"))?.value).toBe("v");
      expect(await store.backend.count()).toBe(0);
    });

    test("the watermarks of purge never go back: a clock stepped back and forward again leaves count right", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      const t = clock.nowMs;
      await store.backend.put(live("a", "v", version(t), t + 500));
      await store.backend.put(live("b", "v", version(t)));
      clock.advance(1000);
      await store.backend.purge(t - 1_000_000);
      expect(await store.backend.count()).toBe(1);
      clock.nowMs -= 800;
      await store.backend.purge(t - 1_000_000);
      clock.nowMs += 800;
      await store.backend.purge(t - 1_000_000);
      expect(await store.backend.count()).toBe(1);
      await store.backend.put(live("a", "live again", version(t + 2000)));
      expect(await store.backend.count()).toBe(2);
    });
  });

  describe("paging", () => {
    // Code point order: U+FFFD (a BMP character) sorts before U+1F600 (😀), though UTF-16 order puts 😀 first.
    const ordered = ["A", "Z", "a", "a/b", "ab", "z", "é", "鍵", "\uFFFD", "🍋🍋", "😀", "😀a"];
    /** A fixed shuffle, so insertion order never happens to be the expected order. */
    const shuffled = [7, 2, 11, 0, 9, 4, 1, 10, 6, 3, 8, 5].map((i) => ordered[i]!);

    test("page lists live keys in code point order with their values and the total", async () => {
      await using store = await openWith(new ManualClock());
      for (const key of shuffled) await store.backend.put(live(key, `v:${key}`));
      const page = await store.backend.page(0, 100, ANY_BYTES);
      expect(page.entries.map((e) => e.key)).toEqual(ordered);
      expect(page.entries.every((e) => e.value === `v:${e.key}`)).toBe(true);
      expect(page.total).toBe(ordered.length);
    });

    test("keysAfter walks live keys in code point order from any cursor, present or not, leaving out tombstones and expired keys", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      for (const key of shuffled) await store.backend.put(live(key, `v:${key}`));
      await store.backend.put(tombstone("a/b", version(START_MS + 1)));
      await store.backend.put(live("ab", "v", version(START_MS + 1), START_MS + 5));
      clock.advance(5);
      const expected = ordered.filter((key) => key !== "a/b" && key !== "ab");
      const walked: string[] = [];
      for (let after = ""; ; ) {
        const entries = await store.backend.keysAfter(after, 3, ANY_BYTES);
        expect(entries.length).toBeLessThanOrEqual(3);
        if (entries.length === 0) break;
        walked.push(...entries.map((e) => e.key));
        after = entries.at(-1)!.key;
      }
      expect(walked).toEqual(expected);
      // A cursor that is no key of the store starts right after where it would sort.
      expect((await store.backend.keysAfter("b", 2, ANY_BYTES)).map((e) => e.key)).toEqual(["z", "é"]);
      expect((await store.backend.keysAfter("\uFFFD", 10, ANY_BYTES)).map((e) => `${e.key}=${e.value}`)).toEqual(["🍋🍋=v:🍋🍋", "😀=v:😀", "😀a=v:😀a"]);
      // The byte budget applies as in page: at least one entry, then only what fits.
      expect((await store.backend.keysAfter("", 10, 1)).map((e) => e.key)).toEqual(["A"]);
    });

    test("U+FFFD sorts before 😀 although 😀 comes first in UTF-16", async () => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(live("😀", "v"));
      await store.backend.put(live("\uFFFD", "v"));
      expect(["\uFFFD", "😀"].sort()).toEqual(["😀", "\uFFFD"]);
      expect((await store.backend.page(0, 10, ANY_BYTES)).entries.map((e) => e.key)).toEqual(["\uFFFD", "😀"]);
    });

    test.each([
      [0, 5, ordered.slice(0, 5)],
      [5, 5, ordered.slice(5, 10)],
      [10, 5, ordered.slice(10)],
      [ordered.length, 5, []],
      [100, 5, []],
      [3, 1, ordered.slice(3, 4)],
      [0, 0, []],
    ])("page at offset %i with limit %i returns that slice and the full total", async (offset, limit, expected) => {
      await using store = await openWith(new ManualClock());
      await Promise.all(shuffled.map((key) => store.backend.put(live(key, "v"))));
      const page = await store.backend.page(offset, limit, ANY_BYTES);
      expect(page.entries.map((e) => e.key)).toEqual(expected);
      expect(page.total).toBe(ordered.length);
    });

    test.each([
      ["every entry that fits", 30, ["a", "b", "c"]],
      ["the entries before the one that would pass it", 25, ["a", "b"]],
      ["exactly the budget", 20, ["a", "b"]],
      ["the first entry even when it alone passes it", 5, ["a"]],
    ])("a byte budget keeps %s (budget %i bytes, 10 per entry)", async (_name, bytesMax, expected) => {
      await using store = await openWith(new ManualClock());
      for (const key of ["c", "a", "b"]) await store.backend.put(live(key, "v".repeat(9)));
      const page = await store.backend.page(0, 10, bytesMax);
      expect(page.entries.map((e) => e.key)).toEqual(expected);
      expect(page.total).toBe(3);
    });

    test("the byte budget counts UTF-8 bytes of keys and values, and applies from the offset", async () => {
      await using store = await openWith(new ManualClock());
      // "é" is one character and two bytes; "😀" is two UTF-16 units and four bytes.
      for (const [key, value] of [["a", "x"], ["b", "é"], ["c", "😀"], ["d", "x"]] as const) await store.backend.put(live(key, value));
      expect((await store.backend.page(1, 10, 8)).entries).toEqual([{ key: "b", value: "é" }, { key: "c", value: "😀" }]);
      expect((await store.backend.page(1, 10, 7)).entries).toEqual([{ key: "b", value: "é" }]);
    });

    test("a page of large values stops at the budget instead of the limit", async () => {
      await using store = await openWith(new ManualClock());
      const large = "v".repeat(CONTRACT_VALUE_BYTES_MAX);
      for (let i = 0; i < 6; i++) await store.backend.put(live(`k${i}`, large));
      const page = await store.backend.page(0, 100, 2 * CONTRACT_VALUE_BYTES_MAX + 100);
      expect(page.entries.map((e) => e.key)).toEqual(["k0", "k1"]);
      expect(page.total).toBe(6);
    });

    test("an empty store has an empty first page and a count of zero", async () => {
      await using store = await openWith(new ManualClock());
      expect(await store.backend.page(0, 20, ANY_BYTES)).toEqual({ entries: [], total: 0 });
      expect(await store.backend.count()).toBe(0);
    });
  });

  describe("scanning", () => {
    test("scan walks every record in code point order, tombstones included, in bounded batches", async () => {
      await using store = await openWith(new ManualClock());
      const keys = ["b", "a", "😀", "\uFFFD", "c/d", "é"];
      for (const key of keys) await store.backend.put(live(key, `v:${key}`));
      await store.backend.put(tombstone("c/d", version(START_MS + 1)));
      const seen: StoredRecord[] = [];
      let after: string | undefined;
      for (let batch = 0; batch < 10; batch++) {
        const records = await store.backend.scan(after, 2);
        expect(records.length).toBeLessThanOrEqual(2);
        if (records.length === 0) break;
        seen.push(...records);
        after = records.at(-1)!.key;
      }
      expect(seen.map((r) => r.key)).toEqual(["a", "b", "c/d", "é", "\uFFFD", "😀"]);
      expect(seen.find((r) => r.key === "c/d")?.tombstone).toBe(true);
      expect(seen.find((r) => r.key === "a")?.version).toEqual(version(START_MS));
    });

    test("scan gives expired records too, as the deletes they are, and starts after the given key", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      await store.backend.put(live("a", "v"));
      await store.backend.put(live("b", "v", version(START_MS), START_MS + 10));
      await store.backend.put(live("c", "v"));
      clock.advance(10);
      expect((await store.backend.scan(undefined, 10)).map((r) => r.key)).toEqual(["a", "b", "c"]);
      expect((await store.backend.scan("a", 10)).map((r) => [r.key, isLive(r, clock.nowMs)])).toEqual([["b", false], ["c", true]]);
      expect(await store.backend.scan("c", 10)).toEqual([]);
    });
  });

  describe("ring order", () => {
    const byRing = (keys: readonly string[]) =>
      [...keys].sort((a, b) => {
        const pa = ringPosition(a);
        const pb = ringPosition(b);
        return pa < pb ? -1 : pa > pb ? 1 : 0;
      });
    const walk = async (backend: Backend, range: RingRange, limit: number) => {
      const seen: StoredRecord[] = [];
      let after: string | undefined;
      for (let batch = 0; batch < 1000; batch++) {
        const records = await backend.scanRing(range, after, limit);
        expect(records.length).toBeLessThanOrEqual(limit);
        if (records.length === 0) break;
        seen.push(...records);
        after = records.at(-1)!.key;
      }
      return seen.map((r) => r.key);
    };

    test("scanRing walks the whole ring in ring-position order, tombstones included, in bounded batches", async () => {
      await using store = await openWith(new ManualClock());
      const keys = [...AWKWARD_KEYS, ...Array.from({ length: 40 }, (_, i) => `key-${i}`)];
      for (const key of keys) await store.backend.put(live(key, "v"));
      await store.backend.put(tombstone("key-3", version(START_MS + 1)));
      expect(await walk(store.backend, WHOLE_RING, 7)).toEqual(byRing(keys));
      expect((await store.backend.scanRing(WHOLE_RING, undefined, 100)).find((r) => r.key === "key-3")?.tombstone).toBe(true);
    });

    test("scanRing reads only its range, both ends included, expired records too", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
      for (const key of keys) await store.backend.put(live(key, "v"));
      await store.backend.put(live("expiring", "v", version(START_MS), START_MS + 5));
      clock.advance(5);
      const ordered = byRing([...keys, "expiring"]);
      // A range from the 10th key's position to the 30th's holds exactly those 21 keys.
      const range = { lo: ringPosition(ordered[10]!), hi: ringPosition(ordered[30]!) };
      expect(await walk(store.backend, range, 4)).toEqual(ordered.slice(10, 31));
      expect(await walk(store.backend, { lo: ringPosition(ordered[60]!) + 1n, hi: RING_MAX }, 4)).toEqual([]);
      expect((await store.backend.scanRing(WHOLE_RING, ordered[59]!, 10)).map((r) => r.key)).toEqual([ordered[60]!]);
      expect(await walk(store.backend, WHOLE_RING, 100)).toEqual(ordered);
      // A cursor before the range reads the range from its start, never what lies before it.
      expect((await store.backend.scanRing(range, ordered[2], 100)).map((r) => r.key)).toEqual(ordered.slice(10, 31));
    });

    test("segment digests follow every put, overwrite, delete, discard and purge, and equal a recount from the records", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      const t = clock.nowMs;
      const digestsNow = async () => Uint32Array.from(await store.backend.segmentDigests());
      expect((await digestsNow()).every((sum) => sum === 0)).toBe(true);
      for (let i = 0; i < 30; i++) await store.backend.put(live(`k${i}`, "v", version(t)));
      await store.backend.put(live("k1", "newer", version(t + 1)));
      await store.backend.put(tombstone("k2", version(t + 1)));
      await store.backend.put(live("k3", "older loses", version(t - 1)));
      await store.backend.discard("k4", version(t));
      await store.backend.put(tombstone("old", version(t - 10_000)));
      await store.backend.put(live("expires", "v", version(t), t + 5));
      const before = await digestsNow();
      expect(before).toEqual(SegmentDigests.of(await store.backend.scanRing(WHOLE_RING, undefined, 1000)).sums);
      expect(before[segmentOf("k1")]).not.toBe(0);
      clock.advance(10);
      // The old tombstone goes; "expires" expired after the cutoff: it loses its value only, and no digest moves for that.
      expect(await store.backend.purge(t - 1)).toBe(1);
      expect(await digestsNow()).toEqual(SegmentDigests.of(await store.backend.scanRing(WHOLE_RING, undefined, 1000)).sums);
      expect(await store.backend.purge(t + 6)).toBe(2);
      expect(await digestsNow()).toEqual(SegmentDigests.of(await store.backend.scanRing(WHOLE_RING, undefined, 1000)).sums);
      // 30 written, k2 deleted, k4 discarded: 28 live.
      expect(await store.backend.count()).toBe(28);
      // Kept with every write, so a recount finds nothing to correct.
      expect(await store.backend.verifySegments(0, 1 << 16)).toBe(0);
    });

    test("two stores given the same records in different orders hold the same digests", async () => {
      await using a = await openWith(new ManualClock());
      await using b = await openWith(new ManualClock());
      const records = Array.from({ length: 50 }, (_, i) => live(`key ${i}`, `v${i}`, version(START_MS + i)));
      for (const record of records) await a.backend.put(record);
      for (const record of [...records].reverse()) await b.backend.put(record);
      await b.backend.put(live("key 0", "stale", version(START_MS - 1)));
      expect(Uint32Array.from(await a.backend.segmentDigests())).toEqual(Uint32Array.from(await b.backend.segmentDigests()));
      await b.backend.put(live("key 7", "newer", version(START_MS + 100)));
      const differ = [...(await a.backend.segmentDigests())].flatMap((sum, segment, all) => (sum !== 0 || all[segment] !== 0 ? [segment] : []));
      expect(differ.length).toBeGreaterThan(0);
      const sa = await a.backend.segmentDigests();
      const sb = await b.backend.segmentDigests();
      expect([...sa.keys()].filter((segment) => sa[segment] !== sb[segment])).toEqual([segmentOf("key 7")]);
    });

    test("count follows writes, deletes and expiry without a purge", async () => {
      const clock = new ManualClock();
      await using store = await openWith(clock);
      for (let i = 0; i < 10; i++) await store.backend.put(live(`k${i}`, "v", version(START_MS), i < 3 ? START_MS + 5 : undefined));
      await store.backend.put(tombstone("k9", version(START_MS + 1)));
      await store.backend.put(tombstone("never-written", version(START_MS + 1)));
      expect(await store.backend.count()).toBe(9);
      clock.advance(5);
      expect(await store.backend.count()).toBe(6);
      // Expired after the cutoff: kept (as deletes), still not counted.
      expect(await store.backend.purge(START_MS - 1)).toBe(0);
      expect(await store.backend.count()).toBe(6);
      // The three expired records and the two tombstones, all from before it.
      expect(await store.backend.purge(START_MS + 6)).toBe(5);
      expect(await store.backend.count()).toBe(6);
      // Records that expire after a purge, then are written over, discarded or purged in turn, are counted right.
      const t = clock.nowMs;
      for (let i = 0; i < 4; i++) await store.backend.put(live(`x${i}`, "v", version(t), t + 5));
      expect(await store.backend.count()).toBe(10);
      clock.advance(5);
      expect(await store.backend.count()).toBe(6);
      await store.backend.purge(START_MS);
      expect(await store.backend.count()).toBe(6);
      await store.backend.put(live("x0", "again", version(t + 1)));
      expect(await store.backend.discard("x1", version(t))).toBe(true);
      expect(await store.backend.count()).toBe(7);
      clock.advance(5);
      await store.backend.put(live("x2", "again", version(t + 2)));
      expect(await store.backend.count()).toBe(8);
      expect(await store.backend.purge(t + 6)).toBe(1);
      expect(await store.backend.count()).toBe(8);
    });
  });

  describe("discarding", () => {
    test("discard removes a record only while it holds exactly that version", async () => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(live("k", "v1", version(START_MS)));
      expect(await store.backend.discard("k", version(START_MS + 1))).toBe(false);
      expect(await store.backend.discard("k", version(START_MS, 0, "http://127.0.0.9:1"))).toBe(false);
      expect((await store.backend.get("k"))?.value).toBe("v1");
      expect(await store.backend.discard("k", version(START_MS))).toBe(true);
      expect(await store.backend.get("k")).toBeUndefined();
      expect(await store.backend.scan(undefined, 10)).toEqual([]);
      expect(await store.backend.discard("k", version(START_MS))).toBe(false);
    });

    test("a discarded key can be written again with any version", async () => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(live("k", "v1", version(START_MS + 5)));
      await store.backend.discard("k", version(START_MS + 5));
      expect(await store.backend.put(live("k", "v0", version(START_MS)))).toEqual({ applied: true, replacedLive: false });
      expect((await store.backend.page(0, 10, ANY_BYTES)).entries).toEqual([{ key: "k", value: "v0" }]);
    });
  });

  describe("concurrency", () => {
    test("500 concurrent puts all resolve as applied and are all readable after", async () => {
      await using store = await openWith(new ManualClock());
      const keys = Array.from({ length: 500 }, (_, i) => `key-${String(i).padStart(3, "0")}`);
      const outcomes = await Promise.all(keys.map((key) => store.backend.put(live(key, `value-${key}`))));
      expect(outcomes.every((o) => o.applied)).toBe(true);
      expect(await store.backend.count()).toBe(500);
      const page = await store.backend.page(0, 1000, ANY_BYTES);
      expect(page.entries.map((e) => e.key)).toEqual(keys);
      const values = await Promise.all(keys.map((key) => store.backend.get(key)));
      expect(values.map((r) => r?.value)).toEqual(keys.map((key) => `value-${key}`));
    });

    test("a refused write among concurrent ones fails alone", async () => {
      await using store = await openWith(new ManualClock());
      const results = await Promise.allSettled([
        store.backend.put(live("a", "v")),
        store.backend.put(live("b", "x".repeat(CONTRACT_VALUE_BYTES_MAX + 1))),
        store.backend.put(live("c", "v")),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect((await store.backend.page(0, 10, ANY_BYTES)).entries.map((e) => e.key)).toEqual(["a", "c"]);
    });
  });

  describe("lifecycle", () => {
    test("check passes on an open store", async () => {
      await using store = await openWith(new ManualClock());
      expect(await store.backend.check()).toBeUndefined();
    });

    test.each([
      ["get", (b: Backend) => b.get("k")],
      ["put", (b: Backend) => b.put(live("k", "v2", version(START_MS + 1)))],
      ["page", (b: Backend) => b.page(0, 10, ANY_BYTES)],
      ["count", (b: Backend) => b.count()],
      ["purge", (b: Backend) => b.purge(START_MS)],
      ["check", (b: Backend) => b.check()],
    ])("%s after close fails with code closed", async (_name, operation) => {
      await using store = await openWith(new ManualClock());
      await store.backend.put(live("k", "v"));
      await store.backend.close();
      await expectStoreError(operation(store.backend), "closed");
    });

    test("close waits for writes already submitted, and a second close is harmless", async () => {
      await using store = await openWith(new ManualClock());
      const writes = Array.from({ length: 20 }, (_, i) => store.backend.put(live(`k${i}`, "v")));
      await store.backend.close();
      const outcomes = await Promise.all(writes);
      expect(outcomes.every((o) => o.applied)).toBe(true);
      expect(await store.backend.close()).toBeUndefined();
    });
  });
}

/** Opens a durable backend on a file; used to close and open the same file again. */
export type OpenBackendAt = (path: string, options: BackendOptions) => Backend;

/** Opens a file-backed backend in a fresh temp folder that is removed with it. */
export function inTempDir(openAt: OpenBackendAt, fileName: string): OpenBackend {
  return async (options) => {
    const dir = await tempDir();
    const backend = openAt(join(dir.path, fileName), options);
    return {
      backend,
      async [Symbol.asyncDispose]() {
        await backend.close();
        await dir[Symbol.asyncDispose]();
      },
    };
  };
}

/** What a durable backend adds to the contract: everything written is there again after close and reopen. */
export function durabilityContract(openAt: OpenBackendAt, fileName: string): void {
  test("records survive close and reopen with versions, tombstones and expiry intact", async () => {
    await using dir = await tempDir();
    const clock = new ManualClock();
    const path = join(dir.path, fileName);
    const options = { clock: clock.now, valueBytesMax: CONTRACT_VALUE_BYTES_MAX };
    const t = clock.nowMs;
    const written = [
      live("plain", "v", version(t, 3, NODE_B)),
      live("expiring", "soon", version(t), t + 60_000),
      live("emoji 😀 / ? # %", "ü", version(t)),
      tombstone("deleted", version(t + 1)),
    ];
    const first = openAt(path, options);
    await Promise.all(written.map((r) => first.put(r)));
    await first.close();

    const second = openAt(path, options);
    try {
      for (const record of written) expect(await second.get(record.key)).toEqual(record);
      expect(await second.count()).toBe(3);
      expect(Uint32Array.from(await second.segmentDigests())).toEqual(SegmentDigests.of(written).sums);
      expect((await second.page(0, 10, ANY_BYTES)).entries.map((e) => e.key)).toEqual(["emoji 😀 / ? # %", "expiring", "plain"]);
      // Versions were kept, so last write wins across the restart too.
      expect((await second.put(live("plain", "older", version(t, 2, NODE_B)))).applied).toBe(false);
      expect((await second.put(live("deleted", "older", version(t)))).applied).toBe(false);
      clock.advance(60_000);
      expect(isLive(await second.get("expiring"), clock.nowMs)).toBe(false);
      expect((await second.page(0, 10, ANY_BYTES)).entries.map((e) => e.key)).toEqual(["emoji 😀 / ? # %", "plain"]);
    } finally {
      await second.close();
    }
  });

  test("a store opened on a folder that does not exist yet creates it", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "nested", "deeper", fileName);
    const backend = openAt(path, { clock: () => 0, valueBytesMax: CONTRACT_VALUE_BYTES_MAX });
    try {
      await backend.put(live("k", "v", version(0)));
      expect((await backend.get("k"))?.value).toBe("v");
      expect(await readdir(join(dir.path, "nested", "deeper"))).toContain(fileName);
    } finally {
      await backend.close();
    }
  });
}
