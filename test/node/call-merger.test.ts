// Calls of one kind made to one peer in one turn go as one merged call, each caller getting its own result.
import { describe, expect, test } from "bun:test";
import { CallMerger, MERGED_WAITING_MAX, type ItemResult } from "../../src/node/call-merger.ts";

/** Items in one merged call at most, and characters, for these tests. */
const ITEMS_MAX = 4;
const CHARS_MAX = 10;

interface Sent {
  readonly target: string;
  readonly items: string[];
  readonly timeoutMs: number;
  readonly answer: PromiseWithResolvers<readonly ItemResult<string>[]>;
}

/** A merger of strings whose calls wait until the test answers them. */
function merger(): { merger: CallMerger<string, string>; sent: Sent[] } {
  const sent: Sent[] = [];
  const m = new CallMerger<string, string>({
    send: (target, items, timeoutMs) => {
      const answer = Promise.withResolvers<readonly ItemResult<string>[]>();
      sent.push({ target, items: [...items], timeoutMs, answer });
      return answer.promise;
    },
    overloaded: (target, timeoutMs) => new Error(`overloaded ${target} ${timeoutMs}`),
    itemsMax: ITEMS_MAX,
    charsOf: (item) => item.length,
    charsMax: CHARS_MAX,
  });
  return { merger: m, sent };
}

const echoed = (items: readonly string[]): ItemResult<string>[] => items.map((item) => ({ ok: true, value: `got ${item}` }));

describe("CallMerger", () => {
  test("calls of one turn to a peer leave as one call per peer and deadline, each caller settling with its own result", async () => {
    const { merger: m, sent } = merger();
    const calls = [m.call("http://127.0.0.2", "a", 100), m.call("http://127.0.0.3", "b", 100), m.call("http://127.0.0.2", "c", 100), m.call("http://127.0.0.2", "d", 50)];
    expect(sent).toHaveLength(0);
    await Bun.sleep(0);
    // One call per peer and deadline; the order among them does not matter.
    expect(sent.map(({ target, items, timeoutMs }) => ({ target, items, timeoutMs })).toSorted((x, y) => `${x.target} ${x.timeoutMs}`.localeCompare(`${y.target} ${y.timeoutMs}`))).toEqual([
      { target: "http://127.0.0.2", items: ["a", "c"], timeoutMs: 100 },
      { target: "http://127.0.0.2", items: ["d"], timeoutMs: 50 },
      { target: "http://127.0.0.3", items: ["b"], timeoutMs: 100 },
    ]);
    const sentTo = (target: string, timeoutMs: number) => sent.find((call) => call.target === target && call.timeoutMs === timeoutMs)!;
    const refused = new Error("refused");
    sentTo("http://127.0.0.2", 100).answer.resolve([{ ok: false, error: refused }, { ok: true, value: "c's answer" }]);
    sentTo("http://127.0.0.3", 100).answer.reject(new Error("lost"));
    sentTo("http://127.0.0.2", 50).answer.resolve(echoed(["d"]));
    expect(await Promise.allSettled(calls)).toEqual([
      { status: "rejected", reason: refused },
      { status: "rejected", reason: new Error("lost") },
      { status: "fulfilled", value: "c's answer" },
      { status: "fulfilled", value: "got d" },
    ]);
  });

  test("a call with a next step settles with what the step made of its result; a step that throws fails that call alone", async () => {
    const { merger: m, sent } = merger();
    const calls = [m.call("http://127.0.0.2", "a", 100, (value) => value.length), m.call("http://127.0.0.2", "b", 100, () => {
      throw new Error("b's step failed");
    }), m.call("http://127.0.0.2", "c", 100)];
    await Bun.sleep(0);
    expect(sent).toHaveLength(1);
    sent[0]!.answer.resolve(echoed(["a", "b", "c"]));
    expect(await Promise.allSettled(calls)).toEqual([
      { status: "fulfilled", value: "got a".length },
      { status: "rejected", reason: new Error("b's step failed") },
      { status: "fulfilled", value: "got c" },
    ]);
  });

  test("a call with a failed step settles with what that step made of any failure: its item's, the call's, its next step's throw, a drop, the bound", async () => {
    const { merger: m, sent } = merger();
    const failed = (error: unknown) => `failed: ${(error as Error).message}`;
    const next = (value: string) => {
      if (value === "got boom") throw new Error("boom's step failed");
      return value;
    };
    const calls = [
      m.call("http://127.0.0.2", "a", 100, next, failed),
      m.call("http://127.0.0.2", "boom", 100, next, failed),
      m.call("http://127.0.0.2", "c", 100, next, failed),
      m.call("http://127.0.0.3", "d", 100, next, failed),
      m.call("http://127.0.0.4", "e", 100, next, failed),
      // A failed step that throws rejects the call with what it threw.
      m.call("http://127.0.0.2", "f", 100, next, () => {
        throw new Error("f's failed step threw");
      }),
    ];
    m.drop("http://127.0.0.4", new Error("removed"));
    await Bun.sleep(0);
    sent.find((s) => s.target === "http://127.0.0.2")!.answer.resolve([{ ok: true, value: "got a" }, { ok: true, value: "got boom" }, { ok: false, error: new Error("c refused") }, { ok: false, error: new Error("f refused") }]);
    sent.find((s) => s.target === "http://127.0.0.3")!.answer.reject(new Error("lost"));
    expect(await Promise.allSettled(calls)).toEqual([
      { status: "fulfilled", value: "got a" },
      { status: "fulfilled", value: "failed: boom's step failed" },
      { status: "fulfilled", value: "failed: c refused" },
      { status: "fulfilled", value: "failed: lost" },
      { status: "fulfilled", value: "failed: removed" },
      { status: "rejected", reason: new Error("f's failed step threw") },
    ]);
    // Past the bound of waiting calls, the refusal goes through the failed step too.
    const held = Array.from({ length: MERGED_WAITING_MAX }, (_, i) => m.call("http://127.0.0.5", String(i % 10), 100));
    expect(await m.call("http://127.0.0.5", "x", 100, next, failed)).toBe("failed: overloaded http://127.0.0.5 100");
    await Bun.sleep(0);
    for (const s of sent.filter((s) => s.target === "http://127.0.0.5")) s.answer.resolve(echoed(s.items));
    await Promise.all(held);
  });

  test("a turn's calls past the bound of items or of characters go in several calls, an item larger than the bound alone", async () => {
    const { merger: m, sent } = merger();
    const items = ["1", "2", "3", "4", "5", "aaaaaa", "bbbbbb", "cccccccccccc", "d"];
    const calls = items.map((item) => m.call("http://127.0.0.2", item, 100));
    await Bun.sleep(0);
    expect(sent.map((s) => s.items)).toEqual([["1", "2", "3", "4"], ["5", "aaaaaa"], ["bbbbbb"], ["cccccccccccc"], ["d"]]);
    for (const s of sent) s.answer.resolve(echoed(s.items));
    expect(await Promise.all(calls)).toEqual(items.map((item) => `got ${item}`));
  });

  test("an answer short of one result per item fails the callers left without one", async () => {
    const { merger: m, sent } = merger();
    const calls = [m.call("http://127.0.0.2", "a", 100), m.call("http://127.0.0.2", "b", 100)];
    await Bun.sleep(0);
    sent[0]!.answer.resolve(echoed(["a"]));
    const settled = await Promise.allSettled(calls);
    expect(settled[0]).toEqual({ status: "fulfilled", value: "got a" });
    expect(settled[1]!.status).toBe("rejected");
  });

  test("calls queued for a peer that is dropped fail with the given error, and nothing is sent to it", async () => {
    const { merger: m, sent } = merger();
    const gone = Promise.allSettled([m.call("http://127.0.0.2", "a", 100), m.call("http://127.0.0.2", "b", 50)]);
    const kept = m.call("http://127.0.0.3", "c", 100);
    m.drop("http://127.0.0.2", new Error("removed"));
    await Bun.sleep(0);
    expect(sent.map((s) => s.target)).toEqual(["http://127.0.0.3"]);
    expect(await gone).toEqual([
      { status: "rejected", reason: new Error("removed") },
      { status: "rejected", reason: new Error("removed") },
    ]);
    sent[0]!.answer.resolve(echoed(["c"]));
    expect(await kept).toBe("got c");
  });

  test("past MERGED_WAITING_MAX calls waiting on a peer, the next fails at once, and room comes back as they settle", async () => {
    const { merger: m, sent } = merger();
    const calls = Array.from({ length: MERGED_WAITING_MAX }, (_, i) => m.call("http://127.0.0.2", String(i % 10), 100));
    expect(await m.call("http://127.0.0.2", "x", 100).catch((error: unknown) => error)).toEqual(new Error("overloaded http://127.0.0.2 100"));
    // Another peer is not held back by this one's backlog.
    const other = m.call("http://127.0.0.3", "y", 100);
    await Bun.sleep(0);
    for (const s of sent) s.answer.resolve(echoed(s.items));
    await Promise.all([...calls, other]);
    const after = m.call("http://127.0.0.2", "z", 100);
    await Bun.sleep(0);
    sent.at(-1)!.answer.resolve(echoed(["z"]));
    expect(await after).toBe("got z");
  });
});
