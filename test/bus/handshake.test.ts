// The bus's handshake and its defences: a wrong or missing secret is refused before any call runs, a peer that
// cannot prove the secret is not talked to, the secret itself never crosses the wire, and garbage closes only
// the connection that sent it.
import { afterEach, expect, test } from "bun:test";
import { BUS_CLOSE, BUS_PATH, BUS_UNPROVEN_PER_ADDRESS_MAX } from "../../src/bus/bus-server.ts";
import { startNode } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";
import { encodeHello, encodeWelcome } from "../../src/bus/frame.ts";
import { freshNonce } from "../../src/bus/handshake.ts";
import { busPeer, transport, type TestPeer, nodeFailure } from "../support/peers.ts";
import type { BusTransport } from "../../src/node/bus-transport.ts";

const SECRET = "correct horse battery staple";
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function peerWith(secret: string): TestPeer {
  const peer = busPeer(secret);
  cleanup.push(() => peer.stop());
  return peer;
}

function clientWith(secret: string): BusTransport {
  const client = transport({ secret });
  cleanup.push(() => client.close());
  return client;
}


test.each([
  ["a wrong secret", "not the secret"],
  ["no secret", ""],
])("a node calling with %s is refused at the handshake, and nothing it sent is applied", async (_name, secret) => {
  const peer = peerWith(SECRET);
  const error = await nodeFailure(clientWith(secret).putReplica(peer.url, [{ key: "k", value: "v", version: { wallMs: Date.now(), counter: 0, node: "http://127.0.0.1:2" }, tombstone: false, expiresAtMs: undefined }]));
  expect(error.code).toBe("unavailable");
  expect(error.message).toContain("refused this node's cluster secret");
  expect(await peer.store.count()).toBe(0);
  // The right secret is taken.
  expect(await clientWith(SECRET).ping(peer.url)).toBe(true);
});

test("a peer that cannot prove the secret is not talked to: the caller refuses its welcome and sends no call", async () => {
  // An impostor that takes any proof and welcomes with a MAC it made up, then records whatever comes next.
  const after: Uint8Array[] = [];
  const impostor = Bun.serve<{ welcomed: boolean }>({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, server) => (server.upgrade(request, { data: { welcomed: false } }) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      open: (ws) => void ws.send(encodeHello(freshNonce())),
      message(ws, message) {
        if (ws.data.welcomed) after.push(new Uint8Array(message as Buffer));
        ws.data.welcomed = true;
        ws.send(encodeWelcome(freshNonce()));
      },
    },
  });
  cleanup.push(() => void impostor.stop(true));
  const error = await nodeFailure(clientWith(SECRET).getReplica(`http://127.0.0.1:${impostor.port}`, "k"));
  expect(error.code).toBe("unavailable");
  expect(error.message).toContain("refused this node's cluster secret");
  await Bun.sleep(100);
  expect(after).toEqual([]);
});

/** A TCP relay from a port of its own to `target`'s, recording every byte either way. */
function recordingRelay(targetPort: number): { port: number; bytes: () => Uint8Array; stop: () => void } {
  const seen: Uint8Array[] = [];
  const server = Bun.listen<{ upstream?: Bun.Socket<{ downstream: Bun.Socket<unknown> }>; pending: Uint8Array[] }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(downstream) {
        downstream.data = { pending: [] };
        void Bun.connect<{ downstream: Bun.Socket<unknown> }>({
          hostname: "127.0.0.1",
          port: targetPort,
          socket: {
            open(upstream) {
              upstream.data = { downstream };
              downstream.data.upstream = upstream;
              for (const chunk of downstream.data.pending) upstream.write(chunk);
            },
            data(upstream, chunk) {
              seen.push(new Uint8Array(chunk));
              upstream.data.downstream.write(chunk);
            },
            close(upstream) {
              upstream.data.downstream.end();
            },
          },
        });
      },
      data(downstream, chunk) {
        seen.push(new Uint8Array(chunk));
        if (downstream.data.upstream === undefined) downstream.data.pending.push(new Uint8Array(chunk));
        else downstream.data.upstream.write(chunk);
      },
      close(downstream) {
        downstream.data.upstream?.end();
      },
    },
  });
  return { port: server.port, bytes: () => Buffer.concat(seen), stop: () => server.stop(true) };
}

test("the secret never crosses the wire: every byte of a handshake and its calls, both ways, lacks it", async () => {
  const peer = peerWith(SECRET);
  const relay = recordingRelay(Number(new URL(peer.url).port));
  cleanup.push(() => relay.stop());
  const client = clientWith(SECRET);
  const via = `http://127.0.0.1:${relay.port}`;
  expect(await client.ping(via)).toBe(true);
  expect(await client.getReplica(via, "k")).toBeUndefined();
  const wire = Buffer.from(relay.bytes());
  expect(wire.length).toBeGreaterThan(100);
  expect(wire.includes(Buffer.from("Upgrade: websocket", "latin1")) || wire.includes(Buffer.from("upgrade: websocket", "latin1"))).toBe(true);
  expect(wire.includes(Buffer.from(SECRET))).toBe(false);
  expect(wire.includes(Buffer.from(SECRET.slice(0, 12)))).toBe(false);
});

/** Opens a raw WebSocket to the peer's bus and resolves with its close code once the peer closes it. */
function rawSocket(peer: Pick<TestPeer, "url">): { ws: WebSocket; opened: Promise<void>; closed: Promise<number> } {
  const ws = new WebSocket(`${peer.url.replace("http", "ws")}${BUS_PATH}`);
  ws.binaryType = "arraybuffer";
  const opened = new Promise<void>((resolve) => (ws.onopen = () => resolve()));
  const closed = new Promise<number>((resolve) => (ws.onclose = (event) => resolve(event.code)));
  return { ws, opened, closed };
}

test.each([
  ["random bytes", () => crypto.getRandomValues(new Uint8Array(4096))],
  ["a frame cut short", () => new Uint8Array([4, 1, 1, 0, 7])],
  ["a frame of an unknown kind", () => new Uint8Array([99, 1])],
  ["text", () => "hello"],
])("%s on the bus closes that connection and nothing else: the peer keeps serving", async (_name, garbage) => {
  const peer = peerWith(SECRET);
  const client = clientWith(SECRET);
  expect(await client.ping(peer.url)).toBe(true);
  const raw = rawSocket(peer);
  await raw.opened;
  raw.ws.send(garbage());
  const code = await Promise.race([raw.closed, Bun.sleep(5_000).then(() => -1)]);
  expect([BUS_CLOSE.badFrame, BUS_CLOSE.refused] as number[]).toContain(code);
  expect(await client.getReplica(peer.url, "k")).toBeUndefined();
});

test("a page cannot open the bus: an upgrade that carries an Origin is refused with 403", async () => {
  const peer = peerWith(SECRET);
  const response = await fetch(`${peer.url}${BUS_PATH}`, { headers: { origin: "http://127.0.0.1:9", upgrade: "websocket", connection: "upgrade", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" } });
  expect(response.status).toBe(403);
  expect(await response.json()).toMatchObject({ code: "forbidden" });
});

test("strangers get at most BUS_UNPROVEN_PER_ADDRESS_MAX bus connections from one address until they prove the secret; each one closed frees its place", async () => {
  await using dir = await tempDir("limedb-bus-unproven-");
  await using node = await startNode({ dataDir: dir.path, env: { CLUSTER_SECRET: SECRET } });
  const attempts = Array.from({ length: 4 * BUS_UNPROVEN_PER_ADDRESS_MAX }, () => rawSocket({ url: node.url }));
  // Each either opens, or is refused at the upgrade and closes without opening.
  const outcomes = await Promise.all(attempts.map((raw) => Promise.race([raw.opened.then(() => "open"), raw.closed.then(() => "refused")])));
  expect(outcomes.filter((outcome) => outcome === "open")).toHaveLength(BUS_UNPROVEN_PER_ADDRESS_MAX);
  const open = attempts.filter((_, i) => outcomes[i] === "open");
  for (const raw of open) raw.ws.close();
  await Promise.all(open.map((raw) => raw.closed));
  const next = rawSocket({ url: node.url });
  expect(await Promise.race([next.opened.then(() => "open"), next.closed.then(() => "refused")])).toBe("open");
  next.ws.close();
});
