// The JSON body reader: refused when too deep or too slow, whether the body declares its length or streams.
import { describe, expect, test } from "bun:test";
import { BodyBudget, COUNTED_BODY_BYTES_MIN, JSON_DEPTH_MAX, readJsonBody, withinDepth } from "../../src/http/body.ts";
import { NodeError } from "../../src/node/errors.ts";
import { BASE } from "../support/app.ts";

const BYTES_MAX = 1024;
/** Short, so the stalled-body tests end quickly; the node's own deadline is BODY_READ_TIMEOUT_MS. */
const DEADLINE_MS = 50;

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

describe("withinDepth", () => {
  test.each([
    ["a number", 0, true, 1],
    ["an empty object", 1, true, {}],
    ["an empty object", 0, false, {}],
    ["a SET body", 1, true, { key: "k", value: "v", ttlMs: 5 }],
    ["arrays and objects nested to the limit", JSON_DEPTH_MAX, true, nested(JSON_DEPTH_MAX)],
    ["arrays and objects nested one past the limit", JSON_DEPTH_MAX, false, nested(JSON_DEPTH_MAX + 1)],
    ["a deep value beside shallow ones", 5, false, [1, [2], nested(5)]],
  ])("%s within a depth of %i: %p", (_name, depthMax, expected, value) => {
    expect(withinDepth(value, depthMax)).toBe(expected);
  });

  test("refuses a value 100,000 levels deep without overflowing the stack", () => {
    expect(withinDepth(JSON.parse("[".repeat(100_000) + "]".repeat(100_000)), JSON_DEPTH_MAX)).toBe(false);
  });
});

/** A body that sends its first bytes and then nothing, ever. */
function stalledBody(first: string): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(first));
    },
  });
}

describe("readJsonBody", () => {
  test.each([
    ["with a declared length", { "content-length": "100" }],
    ["streamed without a length", {}],
  ])("a body that stalls %s is refused with request_timeout at the deadline", async (_name, headers) => {
    const request = new Request(`${BASE}/api/v1/set`, { method: "POST", headers, body: stalledBody('{"key":"k","value":"'), duplex: "half" } as RequestInit);
    const read = readJsonBody(request, BYTES_MAX, DEADLINE_MS);
    await expect(read).rejects.toBeInstanceOf(NodeError);
    await expect(read).rejects.toMatchObject({ code: "request_timeout" });
  });

  test("a body that arrives in time is parsed", async () => {
    const request = new Request(`${BASE}/api/v1/set`, { method: "POST", body: '{"key":"k","value":"v"}' });
    expect(await readJsonBody(request, BYTES_MAX, DEADLINE_MS)).toEqual({ key: "k", value: "v" });
  });

  test("a streamed body over the limit is refused as too_large", async () => {
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(BYTES_MAX).fill(0x20));
      },
    });
    const request = new Request(`${BASE}/api/v1/set`, { method: "POST", body, duplex: "half" } as RequestInit);
    await expect(readJsonBody(request, BYTES_MAX, DEADLINE_MS)).rejects.toMatchObject({ code: "too_large" });
  });
});

describe("the node's body budget", () => {
  const MIB = 1024 * 1024;
  const large = (megabytes: number) =>
    new Request(`${BASE}/api/v1/mset`, { method: "POST", headers: { "content-length": String(megabytes * MIB) }, body: stalledBody("{"), duplex: "half" } as RequestInit);

  test("a large body that would pass it while others are read is refused with 503 at once; small ones and the first always go", async () => {
    const budget = new BodyBudget(3 * MIB);
    // Two of 1.5 MiB fill it; both wait for bytes that never come (until their deadline).
    const held = [readJsonBody(large(1.5), 8 * MIB, 300, budget), readJsonBody(large(1.5), 8 * MIB, 300, budget)].map((read) => read.then(() => "read", (error: NodeError) => error.code));
    expect(budget.bytes).toBe(3 * MIB);
    await expect(readJsonBody(large(1), 8 * MIB, 300, budget)).rejects.toMatchObject({ code: "unavailable" });
    // A body under COUNTED_BODY_BYTES_MIN is not counted: it is read beside them.
    const body = '{"key":"k","value":"v"}';
    const small = new Request(`${BASE}/api/v1/set`, { method: "POST", headers: { "content-length": String(body.length) }, body });
    expect(await readJsonBody(small, 8 * MIB, 300, budget)).toEqual({ key: "k", value: "v" });
    expect(await Promise.all(held)).toEqual(["request_timeout", "request_timeout"]);
    // Given back when they ended: one body larger than the whole budget is still taken when it is alone.
    expect(budget.bytes).toBe(0);
    await expect(readJsonBody(large(4), 8 * MIB, 50, budget)).rejects.toMatchObject({ code: "request_timeout" });
    expect(COUNTED_BODY_BYTES_MIN).toBeLessThanOrEqual(MIB);
  });
});
