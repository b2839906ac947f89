// The seed generator's records: as many as asked, distinct keys, JSON values, the same for the same seed.
import { describe, expect, test } from "bun:test";
import { seedRecords } from "../../src/dashboard/seed-data.ts";
import { SEED_COUNT_MAX, SEED_COUNT_MIN } from "../../src/dashboard/seed-limits.ts";
import { runSeed } from "../support/seeded-random.ts";

const seed = runSeed();
/** Dates in records are relative to this (2023-11-14T22:13:20Z), so a replayed seed gives the same records. */
const NOW_MS = 1_700_000_000_000;
console.log(`seed-data: SEED=${seed}`);

describe("seed records", () => {
  test(`${SEED_COUNT_MAX} records have distinct keys with a kind prefix and JSON values`, () => {
    const records = seedRecords(SEED_COUNT_MAX, seed, NOW_MS);
    expect(records).toHaveLength(SEED_COUNT_MAX);
    expect(new Set(records.map((r) => r.key)).size).toBe(SEED_COUNT_MAX);
    for (const record of records) {
      expect(record.key).toMatch(/^(user|product|order|session|book|company):[a-z0-9]{8}$/);
      expect(typeof JSON.parse(record.value)).toBe("object");
      expect(new TextEncoder().encode(record.value).byteLength).toBeLessThan(1024);
    }
    expect(new Set(records.map((r) => r.key.split(":")[0])).size).toBe(6);
  });

  test("the same seed and clock give the same records, another seed others", () => {
    expect(seedRecords(20, seed, NOW_MS)).toEqual(seedRecords(20, seed, NOW_MS));
    expect(seedRecords(20, seed, NOW_MS)).not.toEqual(seedRecords(20, seed + 1, NOW_MS));
  });

  test.each([SEED_COUNT_MIN - 1, SEED_COUNT_MAX + 1, 1.5, Number.NaN])("a count of %p is refused", (count) => {
    expect(() => seedRecords(count, seed)).toThrow(RangeError);
  });
});
