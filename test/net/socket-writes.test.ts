// SocketWrites: bytes a socket did not take wait, in order, and go out as it drains; their count is exact.
import { expect, test } from "bun:test";
import { SocketWrites, type WritableSocket } from "../../src/net/socket-writes.ts";

/** A socket that takes at most `room` bytes until the test gives it more; -1 when full, as Bun's may answer. */
function socket(room: number): WritableSocket & { taken: number[]; room: number } {
  const fake = {
    taken: [] as number[],
    room,
    write(data: Uint8Array): number {
      if (fake.room === 0) return -1;
      const n = Math.min(fake.room, data.length);
      fake.taken.push(...data.subarray(0, n));
      fake.room -= n;
      return n;
    },
  };
  return fake;
}

test("what the socket does not take waits, later writes queue behind it, and a drain sends it all in order", () => {
  const out = new SocketWrites();
  const s = socket(3);
  out.send(s, new Uint8Array([1, 2, 3, 4, 5]));
  out.send(s, new Uint8Array([6, 7]));
  expect(out.bytes).toBe(4);
  out.flush(s);
  expect(out.bytes).toBe(4);
  s.room = 3;
  out.flush(s);
  expect(out.bytes).toBe(1);
  s.room = 10;
  out.flush(s);
  expect(out.bytes).toBe(0);
  expect(s.taken).toEqual([1, 2, 3, 4, 5, 6, 7]);
});

test("without a socket everything waits; clear() drops it", () => {
  const out = new SocketWrites();
  out.send(undefined, new Uint8Array(10));
  out.flush(undefined);
  expect(out.bytes).toBe(10);
  out.clear();
  expect(out.bytes).toBe(0);
  const s = socket(100);
  out.flush(s);
  expect(s.taken).toEqual([]);
});
