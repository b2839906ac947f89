// Why the bus rides a WebSocket on the HTTP port rather than a TCP port of its own: the same frames, coalesced the
// same way (one frame per event-loop turn), over each, against bench/bus-echo.ts in another process.
import { BUS_FRAME_BYTES_MAX } from "../src/bus/bus-server.ts";
import { decodeFrame, encodeCalls, FrameKind, type Call } from "../src/bus/frame.ts";
import { WsClient } from "../src/bus/ws-client.ts";
import { againstBaseline, type Figure } from "./figures.ts";
import { freePort } from "./server-process.ts";

/** Callers at once, as wrk's 64 connections make a coordinator's replica calls. */
const CALLERS = 64;
const RUN_MS = 2_000;
const WARMUP_MS = 500;
const BODY = JSON.stringify({ key: "bench-12345" });

/** One way to carry frames: send one, get every reply frame back through `onFrame`. */
interface Carrier {
  send(frame: Uint8Array): void;
  close(): void;
}

async function webSocket(port: number, onFrame: (frame: Uint8Array) => void): Promise<Carrier> {
  // The bus's own client (src/bus/ws-client.ts); sends before the upgrade wait for it, in order.
  const ws = new WsClient({
    url: `ws://127.0.0.1:${port}/`,
    messageBytesMax: BUS_FRAME_BYTES_MAX,
    onMessage: onFrame,
    onClose: () => undefined,
  });
  return { send: (frame) => ws.send(frame), close: () => ws.close() };
}

async function tcp(port: number, onFrame: (frame: Uint8Array) => void): Promise<Carrier> {
  let pending = new Uint8Array(0);
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, chunk) {
        let buffer = pending.length === 0 ? new Uint8Array(chunk) : Buffer.concat([pending, chunk]);
        while (buffer.length >= 4) {
          const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0, true);
          if (buffer.length < 4 + length) break;
          onFrame(buffer.subarray(4, 4 + length));
          buffer = buffer.subarray(4 + length);
        }
        pending = buffer.slice();
      },
    },
  });
  return {
    send(frame) {
      const framed = new Uint8Array(4 + frame.length);
      new DataView(framed.buffer).setUint32(0, frame.length, true);
      framed.set(frame, 4);
      socket.write(framed);
    },
    close: () => socket.end(),
  };
}

/** Calls answered per second by CALLERS loops, each waiting for its reply before its next call. */
async function callsPerSecond(open: (onFrame: (frame: Uint8Array) => void) => Promise<Carrier>): Promise<number> {
  const waiting = new Map<number, () => void>();
  const carrier = await open((frame) => {
    const decoded = decodeFrame(frame);
    if (decoded.kind !== FrameKind.replies) return;
    for (const reply of decoded.replies) waiting.get(reply.id)?.();
  });
  let queue: Call[] = [];
  let nextId = 1;
  const call = () =>
    new Promise<void>((resolve) => {
      const id = nextId++;
      waiting.set(id, () => {
        waiting.delete(id);
        resolve();
      });
      if (queue.length === 0) setImmediate(() => {
        const batch = queue;
        queue = [];
        carrier.send(encodeCalls(batch, batch.length * (BODY.length + 16)));
      });
      queue.push({ id, op: 4, timeoutMs: 1000, trace: "", body: BODY });
    });
  let counting = false;
  let answered = 0;
  let running = true;
  const loops = Array.from({ length: CALLERS }, async () => {
    while (running) {
      await call();
      if (counting) answered++;
    }
  });
  await Bun.sleep(WARMUP_MS);
  counting = true;
  const started = performance.now();
  await Bun.sleep(RUN_MS);
  counting = false;
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await Promise.all(loops);
  carrier.close();
  return answered / seconds;
}

export async function benchBusTransport(): Promise<{ figures: Figure[]; notes: string[]; commands: string[] }> {
  const [wsPort, tcpPort] = [freePort(), freePort()];
  const server = Bun.spawn([process.execPath, "bench/bus-echo.ts", String(wsPort), String(tcpPort)], { stdout: "pipe", stderr: "inherit" });
  try {
    await new Response(server.stdout).body?.getReader().read();
    // In rotation, twice each, so a slow moment of the machine falls on both.
    const runs = { ws: [] as number[], tcp: [] as number[] };
    for (let round = 0; round < 2; round++) {
      runs.ws.push(await callsPerSecond((onFrame) => webSocket(wsPort, onFrame)));
      runs.tcp.push(await callsPerSecond((onFrame) => tcp(tcpPort, onFrame)));
    }
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const group = `bus calls, ${CALLERS} callers, one frame per event-loop turn`;
    const figures = againstBaseline("cluster", group, "ops/s", { name: "TCP (Bun.listen, 4-byte length prefix)", value: mean(runs.tcp), detail: `runs ${runs.tcp.map(Math.round).join(", ")}` }, [
      { name: "WebSocket on the HTTP port (Bun.serve, as the bus runs)", value: mean(runs.ws), detail: `runs ${runs.ws.map(Math.round).join(", ")}` },
    ]);
    return {
      figures,
      notes: [
        `Bus transport: the same frames over a WebSocket answer ${(mean(runs.ws) / mean(runs.tcp)).toFixed(2)}× the calls/s of plain TCP with a length prefix (both against bench/bus-echo.ts in another process, decoding and encoding every frame). The bus takes the WebSocket: one port per node (nothing more to configure, advertise in gossip or open in a firewall), the accepting side's framing and backpressure in Bun's native code, and the HTTP port's Host check in front of it. The connecting side reads frames with the bus's own client (src/bus/ws-client.ts), which judges a frame by its declared length before it reads the payload.`,
      ],
      commands: [`bun bench/bus-echo.ts $WS_PORT $TCP_PORT`],
    };
  } finally {
    server.kill("SIGTERM");
    await server.exited;
  }
}
