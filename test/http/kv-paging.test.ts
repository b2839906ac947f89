// pageStartingAt: the seed's page/pageSize that starts the listing at any offset, for pages that come back short.
import { expect, test } from "bun:test";
import { pageStartingAt } from "../../src/http/kv/paging.ts";

test.each([
  [0, { page: 1, pageSize: 100 }],
  [100, { page: 2, pageSize: 100 }],
  [3, { page: 2, pageSize: 3 }],
  [250, { page: 6, pageSize: 50 }],
  [101, { page: 102, pageSize: 1 }],
  [1, { page: 2, pageSize: 1 }],
])("offset %p is where page %o begins", (offset, expected) => {
  expect(pageStartingAt(offset, 100)).toEqual(expected);
});

test("for every offset up to 10,000 the page begins exactly there, with at most 100 entries", () => {
  for (let offset = 0; offset <= 10_000; offset++) {
    const { page, pageSize } = pageStartingAt(offset, 100);
    expect((page - 1) * pageSize).toBe(offset);
    expect(pageSize).toBeGreaterThanOrEqual(1);
    expect(pageSize).toBeLessThanOrEqual(100);
  }
});
