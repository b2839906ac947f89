// The replica writes of one turn to one peer go as one call of records, each write getting its own result.
import { describe, expect, test } from "bun:test";
import { MERGED_CALL_CHARS_MAX, MERGED_RECORD_CHARS_MAX, mergeable, PutCoalescer, PUTS_WAITING_MAX } from "../../src/node/put-coalescer.ts";
import type { PutResult } from "../../src/node/replica-service.ts";
import { RECORDS_PER_REQUEST_MAX } from "../../src/node/record-wire.ts";
import type { StoredRecord } from "../../src/store/record.ts";

function record(key: string, value = `value of ${key}`): StoredRecord {
  return { key, value, version: { wallMs: 1, counter: 0, node: "http://127.0.0.1:2" }, tombstone: false, expiresAtMs: undefined };
}

interface Sent {
  readonly target: string;
  readonly keys: string[];
  readonly timeoutMs: number;
  readonly answer: PromiseWithResolvers<readonly PutResult[]>;
}

/** A coalescer whose calls wait until the test answers them. */
function coalescer(): { coalescer: PutCoalescer; sent: Sent[] } {
  const sent: Sent[] = [];
  const c = new PutCoalescer({
    send: (target, records, timeoutMs) => {
      const answer = Promise.withResolvers<readonly PutResult[]>();
      sent.push({ target, keys: records.map((r) => r.key), timeoutMs, answer });
      return answer.promise;
    },
    overloaded: (target, timeoutMs) => new Error(`overloaded ${target} ${timeoutMs}`),
  });
  return { coalescer: c, sent };
}

const applied = (n: number): PutResult[] => Array.from({ length: n }, () => ({ ok: true, outcome: { applied: true, replacedLive: false } }));

describe("PutCoalescer", () => {
  test("writes of one turn to a peer leave as one call per peer and deadline, each write settling with its own result", async () => {
    const { coalescer: c, sent } = coalescer();
    const writes = [c.put("http://b", record("a"), 100), c.put("http://c", record("b"), 100), c.put("http://b", record("c"), 100), c.put("http://b", record("d"), 50)];
    expect(sent).toHaveLength(0);
    await Bun.sleep(0);
    expect(sent.map(({ target, keys, timeoutMs }) => ({ target, keys, timeoutMs }))).toEqual([
      { target: "http://b", keys: ["a", "c"], timeoutMs: 100 },
      { target: "http://c", keys: ["b"], timeoutMs: 100 },
      { target: "http://b", keys: ["d"], timeoutMs: 50 },
    ]);
    const refused = new Error("refused");
    sent[0]!.answer.resolve([{ ok: false, error: refused }, { ok: true, outcome: { applied: false, replacedLive: false } }]);
    sent[1]!.answer.reject(new Error("lost"));
    sent[2]!.answer.resolve(applied(1));
    const settled = await Promise.allSettled(writes);
    expect(settled).toEqual([
      { status: "rejected", reason: refused },
      { status: "rejected", reason: new Error("lost") },
      { status: "fulfilled", value: { applied: false, replacedLive: false } },
      { status: "fulfilled", value: { applied: true, replacedLive: false } },
    ]);
  });

  test("a turn's writes past one call's bound of records go in several calls", async () => {
    const { coalescer: c, sent } = coalescer();
    const writes = Array.from({ length: RECORDS_PER_REQUEST_MAX + 10 }, (_, i) => c.put("http://b", record(`k${i}`), 100));
    await Bun.sleep(0);
    expect(sent.map((s) => s.keys.length)).toEqual([RECORDS_PER_REQUEST_MAX, 10]);
    for (const s of sent) s.answer.resolve(applied(s.keys.length));
    expect((await Promise.all(writes)).every((outcome) => outcome.applied)).toBe(true);
  });

  test("a turn's writes past one call's bound of characters go in several calls; a record past the merge bound is not mergeable", async () => {
    const { coalescer: c, sent } = coalescer();
    const value = "v".repeat(MERGED_RECORD_CHARS_MAX - 2);
    const count = Math.ceil(MERGED_CALL_CHARS_MAX / MERGED_RECORD_CHARS_MAX) + 1;
    expect(mergeable(record("k", value))).toBe(true);
    expect(mergeable(record("k", `${value}vv`))).toBe(false);
    const writes = Array.from({ length: count }, (_, i) => c.put("http://b", record(`k${i}`, value), 100));
    await Bun.sleep(0);
    expect(sent.map((s) => s.keys.length)).toEqual([count - 1, 1]);
    for (const s of sent) s.answer.resolve(applied(s.keys.length));
    await Promise.all(writes);
  });

  test("writes queued for a peer that is dropped fail with the given error, and nothing is sent to it", async () => {
    const { coalescer: c, sent } = coalescer();
    const gone = [c.put("http://b", record("a"), 100), c.put("http://b", record("b"), 50)];
    const kept = c.put("http://c", record("c"), 100);
    const goneSettled = Promise.allSettled(gone);
    c.drop("http://b", new Error("removed"));
    await Bun.sleep(0);
    expect(sent.map((s) => s.target)).toEqual(["http://c"]);
    expect(await goneSettled).toEqual([
      { status: "rejected", reason: new Error("removed") },
      { status: "rejected", reason: new Error("removed") },
    ]);
    sent[0]!.answer.resolve(applied(1));
    await kept;
    // The dropped writes no longer count against the peer's bound.
    const again = Array.from({ length: PUTS_WAITING_MAX }, (_, i) => c.put("http://b", record(`k${i}`), 100));
    await Bun.sleep(0);
    for (const s of sent.slice(1)) s.answer.resolve(applied(s.keys.length));
    expect(await Promise.all(again)).toHaveLength(PUTS_WAITING_MAX);
  });

  test("an answer short of one result per record fails the writes left without one", async () => {
    const { coalescer: c, sent } = coalescer();
    const writes = [c.put("http://b", record("a"), 100), c.put("http://b", record("b"), 100)];
    await Bun.sleep(0);
    sent[0]!.answer.resolve(applied(1));
    const settled = await Promise.allSettled(writes);
    expect(settled[0]!.status).toBe("fulfilled");
    expect(settled[1]!.status).toBe("rejected");
  });

  test("past PUTS_WAITING_MAX writes waiting on a peer, the next fails at once as unreachable, and room comes back as they settle", async () => {
    const { coalescer: c, sent } = coalescer();
    const writes = Array.from({ length: PUTS_WAITING_MAX }, (_, i) => c.put("http://b", record(`k${i}`), 100));
    const refused = await c.put("http://b", record("one too many"), 100).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toEqual(new Error("overloaded http://b 100"));
    // Another peer is not held back by this one's backlog.
    const other = c.put("http://c", record("elsewhere"), 100);
    await Bun.sleep(0);
    for (const s of sent) s.answer.resolve(applied(s.keys.length));
    await Promise.all([...writes, other]);
    const after = c.put("http://b", record("after"), 100);
    await Bun.sleep(0);
    sent.at(-1)!.answer.resolve(applied(1));
    expect(await after).toEqual({ applied: true, replacedLive: false });
  });
});
