// The bus's frame format: calls and replies round-trip whatever their text, frames written one after another
// stay apart (they share one scratch buffer while written), and malformed frames are refused.
import { describe, expect, test } from "bun:test";
import { type Call, decodeFrame, encodeCalls, encodeReplies, FrameError, FrameKind, frameScratchBytes, type Reply } from "../../src/bus/frame.ts";

const call = (id: number, body: string, trace = ""): Call => ({ id, op: 4, timeoutMs: 2_000, trace, body });
const reply = (id: number, body: string, ok = true): Reply => ({ id, ok, body });

describe("bus frames", () => {
  test("calls round-trip: ids, operations, deadlines, trace contexts (empty or not) and bodies in any script", () => {
    const calls = [call(1, '{"key":"a"}'), call(2, '{"key":"ключ 🍋"}', "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), call(0xffffffff, "")];
    expect(decodeFrame(encodeCalls(calls, 0))).toEqual({ kind: FrameKind.calls, calls });
  });

  test("replies round-trip, failures marked", () => {
    const replies = [reply(7, '{"record":null}'), reply(8, '{"code":"bad_request","error":"é"}', false)];
    expect(decodeFrame(encodeReplies(replies, 0))).toEqual({ kind: FrameKind.replies, replies });
  });

  test("frames written one after another stay apart: a later frame does not change an earlier one's bytes", () => {
    const first = encodeCalls([call(1, "x".repeat(100))], 0);
    const copy = first.slice();
    const second = encodeReplies([reply(2, "y".repeat(5_000))], 0);
    expect(first).toEqual(copy);
    expect(decodeFrame(first)).toEqual({ kind: FrameKind.calls, calls: [call(1, "x".repeat(100))] });
    expect(decodeFrame(second)).toEqual({ kind: FrameKind.replies, replies: [reply(2, "y".repeat(5_000))] });
  });

  test("a frame larger than the kept scratch buffer, then small ones, all decode", () => {
    const big = reply(1, "é".repeat(2 * 1024 * 1024));
    const frames = [encodeReplies([big], 0), encodeReplies([reply(2, "small")], 0), encodeCalls([call(3, "after")], 0)];
    expect(frames.map((frame) => decodeFrame(frame))).toEqual([
      { kind: FrameKind.replies, replies: [big] },
      { kind: FrameKind.replies, replies: [reply(2, "small")] },
      { kind: FrameKind.calls, calls: [call(3, "after")] },
    ]);
    // Each frame is exactly as long as its fields: a 2 MiB-unit body of two-byte characters is 4 MiB of UTF-8.
    expect(frames[0]!.byteLength).toBe(2 + 2 + 4 + 1 + 4 + 4 * 1024 * 1024);
    // Neither growing past the bound while writing nor a large size hint leaves a large buffer kept.
    expect(frameScratchBytes()).toBeLessThanOrEqual(1024 * 1024);
    encodeCalls([call(4, "hinted large")], 32 * 1024 * 1024);
    expect(frameScratchBytes()).toBeLessThanOrEqual(1024 * 1024);
  });

  test("a frame cut short, with bytes after its end, or with no entries is refused", () => {
    const whole = encodeCalls([call(1, '{"key":"a"}')], 0);
    expect(() => decodeFrame(whole.subarray(0, whole.length - 1))).toThrow(FrameError);
    expect(() => decodeFrame(new Uint8Array([...whole, 0]))).toThrow(FrameError);
    expect(() => decodeFrame(new Uint8Array([FrameKind.calls, 1, 0, 0]))).toThrow(FrameError);
  });
});
