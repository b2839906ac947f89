// MATCH patterns as Redis reads them, matched without regular expressions: forged patterns cost linear work
// per star, and no text is an error.
import { expect, test } from "bun:test";
import { globMatcher } from "../../src/resp/glob.ts";

test.each([
  ["user:*", "user:1", true],
  ["user:*", "order:1", false],
  ["h?llo", "hallo", true],
  ["h?llo", "hllo", false],
  ["h[ae]llo", "hello", true],
  ["h[^e]llo", "hello", false],
  ["h[a-b]llo", "hbllo", true],
  ["*:*:x", "a:b:c:x", true],
  ["a\\*b", "a*b", true],
  ["a\\*b", "axb", false],
  ["[unclosed", "[unclosed", true],
  ["[z-a]*", "zebra", false],
  ["日本*", "日本語", true],
  ["?", "😀", true],
])("%s against %s is %p", (pattern, key, matches) => {
  expect(globMatcher(pattern)(key)).toBe(matches);
});

test("a pattern built to backtrack (a star before each of 500 letters) answers at once against a long key", () => {
  const pattern = `${"*a".repeat(500)}b`;
  const started = performance.now();
  expect(globMatcher(pattern)("a".repeat(1024))).toBe(false);
  expect(performance.now() - started).toBeLessThan(1_000);
});
