// A peer for transport tests: a PeerService over a memory store and a scripted gossip side, served on the bus
// (a real Bun.serve on 127.0.0.1) or reached in process through a fake channel.
import type { Server } from "bun";
import { busWebSocket, type BusConnection } from "../../src/bus/bus-server.ts";
import { LinkError } from "../../src/bus/peer-link.ts";
import { FutureBound } from "../../src/clock/future-bound.ts";
import type { Ack, Ack2, Answered, GossipHandler, Syn } from "../../src/membership/messages.ts";
import { BusTransport, type Channel } from "../../src/node/bus-transport.ts";
import { HybridClock } from "../../src/node/hlc.ts";
import { errorReplyBody, PeerService } from "../../src/node/peer-service.ts";
import { ReplicaService } from "../../src/node/replica-service.ts";
import { arcsOf } from "../../src/ring/arcs.ts";
import { buildRing, replicasOf } from "../../src/ring/ring.ts";
import { upgradeBus } from "../../src/http/serve.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import { NodeError } from "../../src/node/errors.ts";
import type { PeerCallListener, PeerObserver } from "../../src/node/peer-transport.ts";
import { PEER_OPS } from "../../src/node/peer-wire.ts";

export const VALUE_BYTES_MAX = 1024 * 1024;
/** The wall time a peer gives when it refuses a SYN as from the future. */
export const PEER_NOW_MS = 1_700_000_000_000;
/** A SYN from this sender is refused as from the future. */
export const FUTURE_SENDER = "http://127.0.0.1:9";

export interface TestPeer {
  readonly url: string;
  readonly store: MemoryBackend;
  readonly service: PeerService;
  /** Makes every call wait this long before it is handled (a stalled peer). */
  stallMs: number;
  /** The operation of every call handled, by number, in the order they came. */
  readonly ops: number[];
  /** Operations this peer answers as unknown, as a node from before them would. */
  readonly unknownOps: Set<number>;
  /** Answers merged reads with whole records even when asked for compact ones, as a node from before them would. */
  wholeRecords: boolean;
  /** The body of every answer, in the order they went. */
  readonly answers: string[];
  /** Bun's server, for bus peers. */
  readonly server?: Server<BusConnection>;
  stop(): Promise<void>;
}

const gossip: GossipHandler = {
  answerSyn(syn: Syn): Answered<Ack> {
    if (syn.from === FUTURE_SENDER) return { ok: false, refused: { kind: "heartbeat", nodeUrl: syn.from } };
    return { ok: true, answer: { type: "ack", from: "http://127.0.0.1:1", entries: [], requests: [syn.from] } };
  },
  acceptAck2(_ack2: Ack2): Answered<{ type: "done" }> {
    return { ok: true, answer: { type: "done" } };
  },
};

function service(url: string): { store: MemoryBackend; service: PeerService } {
  const now = Date.now;
  const store = new MemoryBackend({ valueBytesMax: VALUE_BYTES_MAX, clock: now });
  const future = new FutureBound({ maxSkewMs: 60_000, clock: now, onRefused: () => undefined });
  const ring = buildRing([url], 16);
  const replicas = new ReplicaService({ self: url, store, clock: new HybridClock(url, now, () => future.limitMs()), ring: () => ring, replicasFor: (r, key) => replicasOf(r, key, 1), arcs: (r) => arcsOf(r, 1), valueBytesMax: VALUE_BYTES_MAX, future });
  return { store, service: new PeerService({ replicas, gossip }) };
}

/** A call as the peer's service handles it, noted in `ops` and `answers`; an operation in `unknownOps` is refused as unknown. */
async function handled(peer: Pick<TestPeer, "ops" | "unknownOps" | "wholeRecords" | "answers">, service: PeerService, op: number, body: string): Promise<string> {
  peer.ops.push(op);
  if (peer.unknownOps.has(op)) throw new NodeError("bad_request", `operation ${op} is unknown`);
  const asked = peer.wholeRecords && op === PEER_OPS.getEach ? JSON.stringify({ ...JSON.parse(body), compact: undefined }) : body;
  const answer = await service.handle(op, asked);
  peer.answers.push(answer);
  return answer;
}

/** A peer on the bus: Bun.serve on an ephemeral 127.0.0.1 port, knowing `secret`. */
export function busPeer(secret: string): TestPeer {
  const peer = { stallMs: 0, ops: [] as number[], unknownOps: new Set<number>(), wholeRecords: false, answers: [] as string[] };
  let parts: ReturnType<typeof service> | undefined;
  const server = Bun.serve<BusConnection>({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request, srv) => upgradeBus(request, srv, () => true),
    websocket: busWebSocket({
      secret,
      handle: async (call) => {
        if (peer.stallMs > 0) await Bun.sleep(peer.stallMs);
        return handled(peer, parts!.service, call.op, call.body);
      },
      errorBody: (error) => errorReplyBody(error, PEER_NOW_MS),
    }),
  });
  const url = `http://127.0.0.1:${server.port}`;
  parts = service(url);
  return Object.assign(peer, { url, store: parts.store, service: parts.service, server, stop: async () => void (await server.stop(true)) });
}

/** A peer reached in process: no socket, the same service, deadlines kept by the channel. */
export function inProcessPeer(url: string): TestPeer {
  const parts = service(url);
  const peer: TestPeer = { url, ...parts, stallMs: 0, ops: [], unknownOps: new Set(), wholeRecords: false, answers: [], stop: async () => undefined };
  return peer;
}

/** The fake network: a channel per target to the in-process peer of that URL; an unknown URL is unreachable. */
export function inProcessChannels(peers: () => readonly TestPeer[]): (target: string) => Channel {
  return (target) => {
    const waiting = new Set<{ deadline: number; reject: (error: LinkError) => void }>();
    let closed = false;
    return {
      async call(op, body, timeoutMs) {
        const peer = peers().find((candidate) => candidate.url === target);
        if (closed || peer === undefined) throw new LinkError({ kind: "unreachable", sent: false, reason: "no such peer" });
        return new Promise((resolve, reject) => {
          const entry = { deadline: performance.now() + timeoutMs, reject };
          waiting.add(entry);
          void (async () => {
            if (peer.stallMs > 0) await Bun.sleep(peer.stallMs);
            const reply = await handled(peer, peer.service, op, body).then(
              (answer) => ({ ok: true, body: answer }),
              (error: unknown) => ({ ok: false, body: errorReplyBody(error, PEER_NOW_MS) }),
            );
            if (waiting.delete(entry)) resolve(reply);
          })();
        });
      },
      sweep() {
        const now = performance.now();
        for (const entry of waiting) {
          if (now < entry.deadline) continue;
          waiting.delete(entry);
          entry.reject(new LinkError({ kind: "timeout", sent: true }));
        }
      },
      close() {
        closed = true;
        for (const entry of waiting) entry.reject(new LinkError({ kind: "unreachable", sent: true, reason: "closed" }));
        waiting.clear();
      },
    };
  };
}

export interface TransportOptions {
  readonly secret?: string;
  readonly forwardTimeoutMs?: number;
  readonly onPeerClock?: (peer: string, peerWallMs: number, sentAtMs: number) => void;
  readonly channel?: (target: string) => Channel;
  readonly observe?: PeerObserver;
  readonly listen?: PeerCallListener;
}

export function transport(options: TransportOptions = {}): BusTransport {
  return new BusTransport({
    self: "http://127.0.0.1:2",
    secret: options.secret ?? "",
    callTimeoutMs: options.forwardTimeoutMs ?? 2_000,
    gossipTimeoutMs: 1_000,
    valueBytesMax: VALUE_BYTES_MAX,
    now: () => performance.now(),
    onPeerClock: options.onPeerClock,
    channel: options.channel,
    observe: options.observe,
    listen: options.listen,
  });
}

/** The NodeError a call failed with; fails the test when it succeeded or threw something else. */
export async function nodeFailure(promise: Promise<unknown>): Promise<NodeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof NodeError)) throw new Error(`expected a NodeError, got ${String(error)}`);
  return error;
}
