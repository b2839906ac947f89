// The group-commit batcher: writes that arrive together share one commit, in order, and fail together.
import { describe, expect, test } from "bun:test";
import { BATCH_ITEMS_MAX, TurnBatcher } from "../../src/store/turn-batch.ts";

/** A promise the test settles by hand, to hold a commit open without sleeping. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("TurnBatcher", () => {
  test("writes submitted together are committed by one commit call, each caller getting its own result in order", async () => {
    const calls: number[][] = [];
    const batcher = new TurnBatcher<number, string>((items) => {
      calls.push([...items]);
      return items.map((n) => `result ${n}`);
    });
    const results = await Promise.all([3, 1, 2, 5].map((n) => batcher.submit(n)));
    expect(results).toEqual(["result 3", "result 1", "result 2", "result 5"]);
    expect(calls).toEqual([[3, 1, 2, 5]]);
  });

  test("an async commit resolves each caller only after the commit finished", async () => {
    const gate = deferred();
    let committed = false;
    const batcher = new TurnBatcher<number, number>(async (items) => {
      await gate.promise;
      committed = true;
      return items.map((n) => n * 10);
    });
    const write = batcher.submit(4).then((result) => ({ result, committed }));
    gate.resolve();
    expect(await write).toEqual({ result: 40, committed: true });
  });

  test("writes submitted while a commit runs wait for it and go together in the next commit", async () => {
    const gate = deferred();
    const calls: string[][] = [];
    let entered = () => {};
    const firstEntered = new Promise<void>((r) => {
      entered = r;
    });
    const batcher = new TurnBatcher<string, string>(async (items) => {
      calls.push([...items]);
      if (calls.length === 1) {
        entered();
        await gate.promise;
      }
      return items.map((item) => item.toUpperCase());
    });
    const first = batcher.submit("a");
    await firstEntered;
    const later = [batcher.submit("b"), batcher.submit("c")];
    expect(calls).toEqual([["a"]]);
    gate.resolve();
    expect(await Promise.all([first, ...later])).toEqual(["A", "B", "C"]);
    expect(calls).toEqual([["a"], ["b", "c"]]);
  });

  test(`a flood of writes is committed in batches of at most ${BATCH_ITEMS_MAX}`, async () => {
    const sizes: number[] = [];
    const batcher = new TurnBatcher<number, number>((items) => {
      sizes.push(items.length);
      return [...items];
    });
    const count = BATCH_ITEMS_MAX * 2 + 10;
    const results = await Promise.all(Array.from({ length: count }, (_, i) => batcher.submit(i)));
    expect(results).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(sizes).toEqual([BATCH_ITEMS_MAX, BATCH_ITEMS_MAX, 10]);
  });

  test.each([
    ["throws", () => {
      throw new Error("disk full");
    }],
    ["rejects", () => Promise.reject(new Error("disk full"))],
  ])("a commit that %s rejects every write of its batch, and the next batch still commits", async (_name, fail) => {
    let failNext = true;
    const batcher = new TurnBatcher<number, number>((items) => {
      if (failNext) {
        failNext = false;
        return fail();
      }
      return items.map((n) => n + 1);
    });
    const failed = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(failed.map((r) => (r.status === "rejected" ? String(r.reason) : "fulfilled"))).toEqual(Array(3).fill("Error: disk full"));
    expect(await Promise.all([7, 8].map((n) => batcher.submit(n)))).toEqual([8, 9]);
  });

  test("drain resolves once every submitted write has committed", async () => {
    const gate = deferred();
    const done: number[] = [];
    const batcher = new TurnBatcher<number, number>(async (items) => {
      await gate.promise;
      done.push(...items);
      return [...items];
    });
    const writes = [1, 2, 3].map((n) => batcher.submit(n));
    const drained = batcher.drain().then(() => [...done]);
    gate.resolve();
    expect(await drained).toEqual([1, 2, 3]);
    await Promise.all(writes);
  });

  test("drain on an idle batcher resolves at once", async () => {
    const batcher = new TurnBatcher<number, number>((items) => [...items]);
    expect(await batcher.drain()).toBeUndefined();
  });
});
