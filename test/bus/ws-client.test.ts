// The bus's WebSocket client against Bun.serve and against a raw TCP server that plays a WebSocket server byte by byte.
import { afterEach, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { createServer, type Socket as NetSocket } from "node:net";
import { WS_CLOSE, WS_PONG_BACKLOG_BYTES_MAX, WsClient } from "../../src/bus/ws-client.ts";
import { until } from "../support/until.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MIB = 1024 * 1024;

interface Seen {
  readonly messages: Uint8Array[];
  readonly texts: number[];
  closed: number | undefined;
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

function client(url: string, messageBytesMax = MIB): { ws: WsClient; seen: Seen } {
  const seen: Seen = { messages: [], texts: [], closed: undefined };
  const ws = new WsClient({
    url,
    messageBytesMax,
    onMessage: (data) => seen.messages.push(data.slice()),
    onText: (bytes) => seen.texts.push(bytes),
    onClose: (code) => (seen.closed = code),
  });
  stops.push(() => ws.close());
  return { ws, seen };
}

/** An unmasked server frame. */
function serverFrame(op: number, payload: Uint8Array, fin = true, masked = false): Uint8Array {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = new Uint8Array(header + (masked ? 4 : 0) + length);
  frame[0] = (fin ? 0x80 : 0) | op;
  if (length < 126) frame[1] = length;
  else if (length < 65_536) {
    frame[1] = 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 127;
    new DataView(frame.buffer).setUint32(6, length);
  }
  if (masked) frame[1] |= 0x80;
  frame.set(payload, header + (masked ? 4 : 0));
  return frame;
}

/** Frames the client sent, decoded (the client masks; its key is applied here whatever it is). */
function clientFrames(bytes: Uint8Array): { op: number; payload: Uint8Array }[] {
  const frames = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    let length = bytes[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
      header = 4;
    } else if (length === 127) {
      length = new DataView(bytes.buffer, bytes.byteOffset + at + 6, 4).getUint32(0);
      header = 10;
    }
    expect(bytes[at + 1]! & 0x80).toBe(0x80);
    const mask = bytes.subarray(at + header, at + header + 4);
    const payload = bytes.slice(at + header + 4, at + header + 4 + length).map((byte, i) => byte ^ mask[i % 4]!);
    frames.push({ op: bytes[at]! & 0x0f, payload });
    at += header + 4 + length;
  }
  return frames;
}

interface RawServer {
  readonly url: string;
  /** Bytes the client sent after its upgrade request. */
  received(): Uint8Array;
  /** Whether the client's socket has closed. */
  clientClosed(): boolean;
}

/** A TCP server that answers the upgrade (with `accept` spoiling the accept header when told), then runs `script`. */
function rawServer(script: (socket: Socket<undefined>) => void, options: { wrongAccept?: boolean; padHead?: number } = {}): RawServer {
  let head = "";
  let upgraded = false;
  let after = new Uint8Array(0);
  let closed = false;
  const listener: TCPSocketListener<undefined> = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, chunk) {
        if (upgraded) {
          const joined = new Uint8Array(after.length + chunk.length);
          joined.set(after);
          joined.set(chunk, after.length);
          after = joined;
          return;
        }
        head += new TextDecoder().decode(chunk);
        if (!head.includes("\r\n\r\n")) return;
        upgraded = true;
        const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
        const accept = Bun.SHA1.hash(key + GUID + (options.wrongAccept === true ? "x" : ""), "base64");
        const pad = options.padHead === undefined ? "" : `X-Pad: ${"p".repeat(options.padHead)}\r\n`;
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${pad}\r\n`);
        script(socket);
      },
      close() {
        closed = true;
      },
    },
  });
  stops.push(() => listener.stop(true));
  return { url: `ws://127.0.0.1:${listener.port}/bus`, received: () => after, clientClosed: () => closed };
}

test("talks to Bun.serve's WebSocket both ways: a 1 MiB message and many small ones, in order", async () => {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, s) => (s.upgrade(request) ? undefined : new Response("no", { status: 400 })),
    websocket: { message: (ws, message) => void ws.send(message) },
  });
  stops.push(() => server.stop(true));
  const { ws, seen } = client(`ws://127.0.0.1:${server.port}/bus`, 2 * MIB);
  const big = new Uint8Array(MIB).map((_, i) => i % 251);
  ws.send(big);
  for (let i = 0; i < 100; i++) ws.send(new Uint8Array([i]));
  await until("every echo is back", () => seen.messages.length === 101);
  expect(seen.messages[0]).toEqual(big);
  expect(seen.messages.slice(1).map((message) => message[0])).toEqual(Array.from({ length: 100 }, (_, i) => i));
  expect(seen.closed).toBeUndefined();
});

test("a frame declaring more than the cap closes the connection (1009) as soon as its header is in, its payload never read", async () => {
  const server = rawServer((socket) => {
    // The header says 50 MiB; only the first KiB follows, and the rest never comes.
    socket.write(serverFrame(2, new Uint8Array(50 * MIB)).subarray(0, 10 + 1024));
  });
  const { seen } = client(server.url, MIB);
  await until("the client gave up", () => seen.closed !== undefined);
  expect(seen.closed).toBe(WS_CLOSE.tooBig);
  expect(seen.messages).toEqual([]);
  await until("the client's socket is closed", () => server.clientClosed());
});

test("fragments are joined, a message split over many TCP writes arrives whole, a ping is answered with its pong", async () => {
  const server = rawServer((socket) => {
    void (async () => {
      socket.write(serverFrame(9, new Uint8Array([7, 7])));
      socket.write(serverFrame(2, new Uint8Array([1, 2]), false));
      socket.write(serverFrame(0, new Uint8Array([3]), false));
      socket.write(serverFrame(0, new Uint8Array([4, 5]), true));
      const split = serverFrame(2, new Uint8Array(70_000).fill(9));
      for (let at = 0; at < split.length; at += 7_001) {
        socket.write(split.subarray(at, at + 7_001));
        await Bun.sleep(1);
      }
    })();
  });
  const { seen } = client(server.url);
  await until("both messages are in", () => seen.messages.length === 2, 100_000);
  expect(seen.messages[0]).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
  expect(seen.messages[1]).toEqual(new Uint8Array(70_000).fill(9));
  const pong = clientFrames(server.received()).find((frame) => frame.op === 10);
  expect(pong?.payload).toEqual(new Uint8Array([7, 7]));
  expect(seen.closed).toBeUndefined();
});

test.each<[string, (socket: Socket<undefined>) => void, { wrongAccept?: boolean; padHead?: number }]>([
  ["a wrong Sec-WebSocket-Accept", () => undefined, { wrongAccept: true }],
  ["a masked server frame", (socket) => void socket.write(serverFrame(2, new Uint8Array([1]), true, true)), {}],
  ["a reserved bit set", (socket) => void socket.write(new Uint8Array([0xc2, 0x00])), {}],
  ["a continuation with no message begun", (socket) => void socket.write(serverFrame(0, new Uint8Array([1]))), {}],
  ["an unknown opcode", (socket) => void socket.write(serverFrame(5, new Uint8Array([1]))), {}],
  ["a control frame over 125 bytes", (socket) => void socket.write(serverFrame(9, new Uint8Array(126))), {}],
  ["a close frame with a 1-byte payload", (socket) => void socket.write(serverFrame(8, new Uint8Array([3]))), {}],
  ["an upgrade answer over 16 KiB", () => undefined, { padHead: 20_000 }],
])("%s is a protocol error (1002): the connection ends, nothing is delivered", async (_name, script, options) => {
  const server = rawServer(script, options);
  const { seen } = client(server.url);
  await until("the client gave up", () => seen.closed !== undefined, 100_000);
  expect(seen.closed).toBe(WS_CLOSE.protocol);
  expect(seen.messages).toEqual([]);
});

test("the server's close frame ends the connection with its code; a text message is reported by size only", async () => {
  const server = rawServer((socket) => {
    socket.write(serverFrame(1, new TextEncoder().encode("hello")));
    socket.write(serverFrame(8, new Uint8Array([0x0f, 0xa1])));
  });
  const { seen } = client(server.url);
  await until("the close came", () => seen.closed !== undefined, 100_000);
  expect(seen.texts).toEqual([5]);
  expect(seen.closed).toBe(4001);
});

test("a port nothing listens on ends the connection as abnormal (1006); close() after it is harmless", async () => {
  const listener = Bun.listen<undefined>({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  const { ws, seen } = client(`ws://127.0.0.1:${port}/bus`);
  await until("the connection failed", () => seen.closed !== undefined, 100_000);
  expect(seen.closed).toBe(WS_CLOSE.abnormal);
  ws.close();
  ws.send(new Uint8Array([1]));
});

test("many empty and 1-byte fragments cost only the bytes they carry: the message is whole, and fragments past the cap close with 1009", async () => {
  const FRAGMENTS = 1_000_000;
  const server = rawServer((socket) => {
    const stream = new Uint8Array(2 + FRAGMENTS * 2 + 3);
    stream.set([0x02, 0x00]);
    // Empty continuations, then a final one carrying one byte.
    stream.set([0x80, 0x01, 0x07], 2 + FRAGMENTS * 2);
    socket.write(stream);
  });
  const heapBefore = process.memoryUsage().heapUsed;
  const { seen } = client(server.url);
  await until("the message is in", () => seen.messages.length === 1 || seen.closed !== undefined, 1_000_000);
  expect(seen.messages).toEqual([new Uint8Array([7])]);
  // One object per fragment held until the end (as before the fix) is tens of MiB.
  expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(8 * MIB);

  const capped = rawServer((socket) => {
    const oneByte = new Uint8Array(1 + 2_000 * 3);
    oneByte[0] = 0x02;
    for (let i = 0; i < 2_000; i++) oneByte.set([0x00, 0x01, 0x01], 1 + i * 3);
    // The first byte of the stream is the start of a binary message of 1 byte, not final.
    socket.write(new Uint8Array([0x02, 0x01, 0x01]));
    socket.write(oneByte.subarray(1));
  });
  const { seen: over } = client(capped.url, 1_000);
  await until("the client gave up", () => over.closed !== undefined, 1_000_000);
  expect(over.closed).toBe(WS_CLOSE.tooBig);
  expect(over.messages).toEqual([]);
});

test("a peer that pings and never reads cannot grow the client's send queue past the pong backlog", async () => {
  const PINGS_BYTES = 24 * MIB;
  let peer: NetSocket | undefined;
  const server = createServer((socket) => {
    peer = socket;
    let head = "";
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.removeAllListeners("data");
      // From here on nothing the client sends is read.
      socket.pause();
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${Bun.SHA1.hash(key + GUID, "base64")}\r\n\r\n`);
      const ping = serverFrame(9, new Uint8Array(125).fill(1));
      const block = new Uint8Array(Math.floor(MIB / ping.length) * ping.length);
      for (let at = 0; at < block.length; at += ping.length) block.set(ping, at);
      for (let sent = 0; sent < PINGS_BYTES; sent += block.length) socket.write(block);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stops.push(() => {
    peer?.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const { ws, seen } = client(`ws://127.0.0.1:${port}/bus`);
  let most = 0;
  const deadline = performance.now() + 10_000;
  // Until every ping was read, or the bound on this test's time: the queue never passes the backlog and one pong.
  while (performance.now() < deadline && peer?.writableLength !== 0) {
    most = Math.max(most, ws.bufferedAmount);
    await Bun.sleep(5);
  }
  most = Math.max(most, ws.bufferedAmount);
  expect(peer?.writableLength).toBe(0);
  expect(most).toBeLessThanOrEqual(WS_PONG_BACKLOG_BYTES_MAX + 131);
  expect(seen.closed).toBeUndefined();
});
