// The queue of keys by expiry: due entries come out earliest first, and only those due.
import { expect, test } from "bun:test";
import { ExpiryQueue } from "../../src/store/expiry-queue.ts";
import { seededRandom } from "../support/seeded-random.ts";

test("takeDue hands over exactly the entries due, earliest first, and keeps the rest for later", () => {
  const random = seededRandom(11);
  const queue = new ExpiryQueue();
  const times = Array.from({ length: 2000 }, () => Math.floor(random() * 10_000));
  times.forEach((atMs, i) => queue.push(atMs, `k${i}`));
  const seen: number[] = [];
  queue.takeDue(5_000, (_key, atMs) => seen.push(atMs));
  expect(seen).toEqual(times.filter((t) => t <= 5_000).sort((a, b) => a - b));
  expect(queue.size).toBe(times.filter((t) => t > 5_000).length);
  const rest: number[] = [];
  queue.takeDue(Number.MAX_SAFE_INTEGER, (_key, atMs) => rest.push(atMs));
  expect(rest).toEqual(times.filter((t) => t > 5_000).sort((a, b) => a - b));
  expect(queue.size).toBe(0);
});

test("rebuild starts again from the entries given", () => {
  const queue = new ExpiryQueue();
  for (let i = 0; i < 10; i++) queue.push(i, `stale${i}`);
  queue.rebuild([["b", 2], ["a", 1]]);
  const seen: string[] = [];
  queue.takeDue(10, (key) => seen.push(key));
  expect(seen).toEqual(["a", "b"]);
});
