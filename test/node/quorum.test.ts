// awaitQuorum: resolves at the W-th success, fails as soon as W is out of reach or time runs out, and reports every fate.
import { afterEach, describe, expect, jest, test } from "bun:test";
import { NodeError, type NodeErrorCode } from "../../src/node/errors.ts";
import { awaitQuorum, type Fate } from "../../src/node/quorum.ts";
import { failureOf } from "../support/failure.ts";

/** A call the test settles by hand, so the order of answers is the test's choice. */
function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let started = 0;
  const call = () => {
    started++;
    return promise;
  };
  return { call, resolve, reject, started: () => started };
}

/** A quorum that must never hit its timeout in these tests: the outcome comes from the answers alone. */
const NO_TIMEOUT_MS = 60_000;

function failure(code: NodeErrorCode): NodeError {
  return new NodeError(code, `the replica failed with ${code}`);
}

const rejection = failureOf;

/** Collects the fates onSettled reports, and how often it was called. */
function settledSpy<T>() {
  const reports: ReadonlyMap<string, Fate<T>>[] = [];
  return { onSettled: (fates: ReadonlyMap<string, Fate<T>>) => void reports.push(fates), reports };
}

afterEach(() => {
  jest.useRealTimers();
});

describe("awaitQuorum", () => {
  test("resolves at the W-th success without waiting for the rest", async () => {
    const a = deferred<string>();
    const b = deferred<string>();
    const c = deferred<string>();
    const quorum = awaitQuorum(new Map([["a", a.call], ["b", b.call], ["c", c.call]]), 2, NO_TIMEOUT_MS, "write");
    expect([a.started(), b.started(), c.started()]).toEqual([1, 1, 1]);
    b.resolve("from b");
    a.resolve("from a");
    const { answers } = await quorum;
    expect(answers).toEqual(new Map([["b", "from b"], ["a", "from a"]]));
  });

  test("does not resolve before the W-th success", async () => {
    const a = deferred<string>();
    const b = deferred<string>();
    let met = false;
    const quorum = awaitQuorum(new Map([["a", a.call], ["b", b.call]]), 2, NO_TIMEOUT_MS, "write").then(() => (met = true));
    a.resolve("from a");
    await Promise.resolve();
    await Promise.resolve();
    expect(met).toBe(false);
    b.resolve("from b");
    await quorum;
    expect(met).toBe(true);
  });

  test("fails as unavailable as soon as W can no longer be reached, whatever the slow replica does later", async () => {
    const a = deferred<string>();
    const b = deferred<string>();
    const c = deferred<string>();
    const quorum = awaitQuorum(new Map([["a", a.call], ["b", b.call], ["c", c.call]]), 2, NO_TIMEOUT_MS, "write");
    a.reject(failure("unavailable"));
    b.reject(new Error("connection refused"));
    const error = await rejection(quorum);
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("write of this key: only 1 of 3 replicas can answer and 2 must");
    expect(error.message).toContain("may or may not have been applied");
    c.resolve("late");
  });

  test("fails as unavailable at once when fewer replicas are asked than must answer", async () => {
    const a = deferred<string>();
    const error = await rejection(awaitQuorum(new Map([["a", a.call]]), 2, NO_TIMEOUT_MS, "write"));
    expect(error.code).toBe("unavailable");
    a.resolve("too few anyway");
  });

  test("fails as timeout when W is not met in time, saying how many answered", async () => {
    jest.useFakeTimers();
    const a = deferred<string>();
    const b = deferred<string>();
    const c = deferred<string>();
    const quorum = awaitQuorum(new Map([["a", a.call], ["b", b.call], ["c", c.call]]), 2, 1000, "read");
    a.resolve("from a");
    await Promise.resolve();
    jest.advanceTimersByTime(999);
    let failed = false;
    void quorum.catch(() => (failed = true));
    await Promise.resolve();
    expect(failed).toBe(false);
    jest.advanceTimersByTime(1);
    const error = await rejection(quorum);
    expect(error.code).toBe("timeout");
    expect(error.message).toContain("read of this key: 1 of 2 replicas answered within 1000 ms");
  });

  test("at the timeout, onTimeout hears the replicas that had not answered (the earliest news that they do not)", async () => {
    jest.useFakeTimers();
    const a = deferred<string>();
    const b = deferred<string>();
    const c = deferred<string>();
    const silent: string[][] = [];
    const quorum = awaitQuorum(new Map([["a", a.call], ["b", b.call], ["c", c.call]]), 2, 1000, "read", undefined, (replicas) => silent.push([...replicas]));
    a.resolve("from a");
    await Promise.resolve();
    expect(silent).toEqual([]);
    jest.advanceTimersByTime(1000);
    expect((await rejection(quorum)).code).toBe("timeout");
    expect(silent).toEqual([["b", "c"]]);
  });

  test.each<[string, readonly (NodeErrorCode | "plain")[], NodeErrorCode]>([
    ["every failure is store_unavailable", ["store_unavailable", "store_unavailable"], "store_unavailable"],
    ["every failure is a timeout", ["timeout", "timeout"], "timeout"],
    ["every failure is too_large", ["too_large", "too_large"], "too_large"],
    ["every failure is unavailable", ["unavailable", "unavailable"], "unavailable"],
    ["the failures differ", ["timeout", "store_unavailable"], "unavailable"],
    ["a failure is not a NodeError", ["plain", "plain"], "unavailable"],
    ["one failure is a timeout and one is not a NodeError", ["timeout", "plain"], "unavailable"],
  ])("when %s, the quorum fails with %p", async (_name, failures, expected) => {
    const [first, second] = failures;
    const calls = new Map<string, () => Promise<string>>([
      ["a", () => Promise.reject(first === "plain" ? new Error("socket closed") : failure(first!))],
      ["b", () => Promise.reject(second === "plain" ? new Error("socket closed") : failure(second!))],
      ["c", () => new Promise<string>(() => {})],
    ]);
    expect((await rejection(awaitQuorum(calls, 2, NO_TIMEOUT_MS, "write"))).code).toBe(expected);
  });

  test("keeps the one failure's code when W is all replicas and one fails", async () => {
    const calls = new Map<string, () => Promise<string>>([
      ["a", () => Promise.resolve("ok")],
      ["b", () => Promise.reject(failure("store_unavailable"))],
    ]);
    expect((await rejection(awaitQuorum(calls, 2, NO_TIMEOUT_MS, "write"))).code).toBe("store_unavailable");
  });

  test("onSettled gets every replica's fate after the quorum resolved, once the slow one answers", async () => {
    const a = deferred<string>();
    const b = deferred<string>();
    const c = deferred<string>();
    const spy = settledSpy<string>();
    const quorum = awaitQuorum(new Map([["a", a.call], ["b", b.call], ["c", c.call]]), 2, NO_TIMEOUT_MS, "write", spy.onSettled);
    a.resolve("from a");
    b.resolve("from b");
    const { settled } = await quorum;
    expect(spy.reports).toEqual([]);
    const late = failure("timeout");
    c.reject(late);
    const fates = await settled;
    expect(fates).toEqual(new Map<string, Fate<string>>([["a", { ok: true, value: "from a" }], ["b", { ok: true, value: "from b" }], ["c", { ok: false, error: late }]]));
    await Promise.resolve();
    expect(spy.reports).toEqual([fates]);
  });

  test("onSettled gets every replica's fate after the quorum failed, the late success included", async () => {
    const a = deferred<string>();
    const b = deferred<string>();
    const c = deferred<string>();
    const spy = settledSpy<string>();
    const quorum = awaitQuorum(new Map([["a", a.call], ["b", b.call], ["c", c.call]]), 2, NO_TIMEOUT_MS, "write", spy.onSettled);
    const down = failure("unavailable");
    a.reject(down);
    b.reject(down);
    await rejection(quorum);
    expect(spy.reports).toEqual([]);
    c.resolve("from c");
    for (let turn = 0; turn < 5 && spy.reports.length === 0; turn++) await Promise.resolve();
    expect(spy.reports).toHaveLength(1);
    expect(spy.reports[0]).toEqual(new Map<string, Fate<string>>([["a", { ok: false, error: down }], ["b", { ok: false, error: down }], ["c", { ok: true, value: "from c" }]]));
  });

  test("onSettled gets every fate after a timeout too, once the last replica answers", async () => {
    jest.useFakeTimers();
    const a = deferred<string>();
    const spy = settledSpy<string>();
    const quorum = awaitQuorum(new Map([["a", a.call]]), 1, 1000, "write", spy.onSettled);
    jest.advanceTimersByTime(1000);
    expect((await rejection(quorum)).code).toBe("timeout");
    a.resolve("too late");
    for (let turn = 0; turn < 5 && spy.reports.length === 0; turn++) await Promise.resolve();
    expect(spy.reports).toEqual([new Map([["a", { ok: true, value: "too late" }]])]);
  });

  test("needed 0 with no calls resolves at once with no answers, and every fate (none) is reported", async () => {
    const spy = settledSpy<string>();
    const { answers, settled } = await awaitQuorum(new Map<string, () => Promise<string>>(), 0, NO_TIMEOUT_MS, "write", spy.onSettled);
    expect(answers.size).toBe(0);
    expect((await settled).size).toBe(0);
    await Promise.resolve();
    expect(spy.reports).toHaveLength(1);
  });

  test("needed 0 resolves at once yet still starts every call and reports its fate", async () => {
    const a = deferred<string>();
    const { answers, settled } = await awaitQuorum(new Map([["a", a.call]]), 0, NO_TIMEOUT_MS, "write");
    expect(answers.size).toBe(0);
    expect(a.started()).toBe(1);
    a.resolve("from a");
    expect(await settled).toEqual(new Map([["a", { ok: true, value: "from a" }]]));
  });
});
