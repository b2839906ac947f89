// readBounded: a stream's bytes within a cap and a deadline, the stream cancelled when either is passed.
import { describe, expect, test } from "bun:test";
import { BoundedReadError, readBodyText, readBounded, readBoundedText } from "../../src/net/bounded-read.ts";

/** A stream that sends the chunks, then either ends or stays open without another byte (a stalled sender). */
function streamOf(chunks: readonly string[], end: "close" | "stall", onCancel: () => void = () => undefined): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk !== undefined) controller.enqueue(new TextEncoder().encode(chunk));
      else if (end === "close") controller.close();
      // Stalled: never enqueues again, so the reader waits until it is cancelled.
      else return new Promise<void>(() => undefined);
      return undefined;
    },
    cancel: onCancel,
  });
}

async function failureOf(read: Promise<unknown>): Promise<BoundedReadError> {
  try {
    await read;
  } catch (error) {
    if (error instanceof BoundedReadError) return error;
    throw error;
  }
  throw new Error("the read was expected to fail");
}

describe("readBounded", () => {
  test("gives the whole stream when it stays within the cap", async () => {
    expect(await readBoundedText(streamOf(["ab", "cd", "ef"], "close"), { bytesMax: 6 })).toBe("abcdef");
    expect(await readBounded(null, { bytesMax: 1 })).toEqual(new Uint8Array(0));
  });

  test("stops as soon as the bytes pass the cap, and cancels the stream", async () => {
    let cancelled = false;
    const error = await failureOf(readBounded(streamOf(["abc", "def", "never read"], "stall", () => (cancelled = true)), { bytesMax: 5 }));
    expect(error.kind).toBe("too_large");
    expect(error.bytes).toBe(6);
    expect(cancelled).toBe(true);
  });

  test("gives up on a sender that stalls past the deadline, and cancels the stream", async () => {
    let cancelled = false;
    const error = await failureOf(readBounded(streamOf(["26 bytes of 100 arrived..."], "stall", () => (cancelled = true)), { bytesMax: 100, deadlineMs: 20 }));
    expect(error.kind).toBe("timeout");
    expect(error.bytes).toBe(26);
    expect(cancelled).toBe(true);
  });
});

describe("readBodyText", () => {
  test("refuses a message whose declared length passes the cap before reading a byte of it", async () => {
    let pulled = false;
    const body = new ReadableStream<Uint8Array>({ pull: () => void (pulled = true) });
    const error = await failureOf(readBodyText(new Response(body, { headers: { "content-length": "1000" } }), { bytesMax: 10 }));
    expect(error.kind).toBe("too_large");
    expect(pulled).toBe(false);
  });

  test("reads a declared length within the cap whole, and counts a body without a length as it comes", async () => {
    expect(await readBodyText(new Response("hello", { headers: { "content-length": "5" } }), { bytesMax: 5 })).toBe("hello");
    expect((await failureOf(readBodyText(new Response(streamOf(["abc", "def"], "close")), { bytesMax: 5 }))).kind).toBe("too_large");
  });

  test("gives up on a body that has not arrived by the deadline", async () => {
    const request = new Request("http://127.0.0.1/", { method: "POST", body: streamOf(["partial"], "stall"), headers: { "content-length": "100" } });
    expect((await failureOf(readBodyText(request, { bytesMax: 1000, deadlineMs: 20 }))).kind).toBe("timeout");
  });
});
