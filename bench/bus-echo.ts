// The far end of the bus transport comparison: answers every CALLS frame with a REPLIES frame of the same ids,
// once over a WebSocket (Bun.serve, as the bus runs) and once over plain TCP with a 4-byte length before each
// frame (Bun.listen). Run as `bun bench/bus-echo.ts WS_PORT TCP_PORT`; 127.0.0.1 only, exits on SIGTERM.
import { decodeFrame, encodeReplies, FrameKind } from "../src/bus/frame.ts";

const [wsPort, tcpPort] = Bun.argv.slice(2).map(Number);

/** The replies to a frame of calls: each call's body back, as a replica answers a read. */
export function answer(frame: Uint8Array): Uint8Array {
  const decoded = decodeFrame(frame);
  if (decoded.kind !== FrameKind.calls) throw new Error("bus-echo: expected calls");
  return encodeReplies(decoded.calls.map((call) => ({ id: call.id, ok: true, body: call.body })), frame.length + 64);
}

const ws = Bun.serve({
  hostname: "127.0.0.1",
  port: wsPort,
  fetch: (request, server) => (server.upgrade(request) ? undefined : new Response("upgrade", { status: 400 })),
  websocket: { perMessageDeflate: false, message: (socket, message) => void socket.send(answer(message as Buffer)) },
});

const tcp = Bun.listen<{ pending: Uint8Array }>({
  hostname: "127.0.0.1",
  port: tcpPort!,
  socket: {
    open: (socket) => void (socket.data = { pending: new Uint8Array(0) }),
    data(socket, chunk) {
      let buffer = socket.data.pending.length === 0 ? new Uint8Array(chunk) : Buffer.concat([socket.data.pending, chunk]);
      while (buffer.length >= 4) {
        const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0, true);
        if (buffer.length < 4 + length) break;
        const reply = answer(buffer.subarray(4, 4 + length));
        const framed = new Uint8Array(4 + reply.length);
        new DataView(framed.buffer).setUint32(0, reply.length, true);
        framed.set(reply, 4);
        socket.write(framed);
        buffer = buffer.subarray(4 + length);
      }
      socket.data.pending = buffer.slice();
    },
  },
});

process.on("SIGTERM", () => {
  ws.stop(true);
  tcp.stop(true);
  process.exit(0);
});
console.log("ready");
