// A fake cluster member for attack tests: a real bus endpoint on 127.0.0.1 (the same WebSocket and frames a node
// serves, no secret) that gossips just enough to be in a real node's ring, and answers every other call as the test says.
import type { BusConnection } from "../../src/bus/bus-server.ts";
import { busWebSocket } from "../../src/bus/bus-server.ts";
import { upgradeBus } from "../../src/http/serve.ts";
import type { Ack, Syn } from "../../src/membership/messages.ts";
import { peerOpOf, type PeerOp } from "../../src/node/peer-wire.ts";
import { timingArgs, type ClusterTiming } from "./cluster.ts";
import { startNode, type NodeProcess } from "./node-process.ts";

/** A reply on the bus: an answer's JSON, or (ok false) an error's {code, error}. */
export interface MemberReply {
  readonly ok: boolean;
  readonly body: string;
}

/** Answers a call other than gossip: its operation and its parsed body. */
export type MemberAnswer = (op: PeerOp, body: unknown) => MemberReply | Promise<MemberReply>;

export interface FakeMember extends AsyncDisposable {
  /** Its own URL, as it names itself in every ACK: http://127.0.0.1:<port>. */
  readonly url: string;
  /** SYNs it has answered so far. */
  readonly syns: () => number;
  /** How it answers everything but gossip; the test may swap it at any time. */
  answer: MemberAnswer;
  /** How it sends a well-formed ACK back; the default sends it as it is. */
  sendAck: (ack: Ack) => MemberReply;
}

/** An answer as a reply. */
export const answered = (answer: unknown): MemberReply => ({ ok: true, body: JSON.stringify(answer) });
/** An error as a reply, as a node sends it. */
export const refused = (code: string, error: string): MemberReply => ({ ok: false, body: JSON.stringify({ code, error }) });

/**
 * Starts a member that answers every SYN with an ACK naming itself at a rising heartbeat, so a node
 * that exchanges gossip with it holds it active (it is heard from directly, as a real member is).
 * It asks for nothing back and passes on no other member.
 */
export function startFakeMember(answer: MemberAnswer): FakeMember {
  const generation = Date.now();
  let heartbeat = 0;
  let syns = 0;
  const handlers = { answer, sendAck: (ack: Ack) => answered(ack) };
  const reply = async (op: PeerOp | undefined, text: string): Promise<MemberReply> => {
    const body: unknown = JSON.parse(text);
    // The merged calls a node makes of one turn's writes and digest reads: each item answered as the call of it alone.
    if (op === "putEach") return merged((body as { records: unknown[] }).records.map((record) => handlers.answer("put", { records: [record] })), (answer) => (answer as { outcomes: unknown[] }).outcomes[0]);
    if (op === "getEach") return merged((body as { keys: string[] }).keys.map((key) => handlers.answer("get", { key })), (answer) => (answer as { record: unknown }).record);
    if (op === "versionEach") return merged((body as { keys: string[] }).keys.map((key) => handlers.answer("version", { key })), (answer) => (answer as { version: unknown }).version);
    if (op !== "gossip") return handlers.answer(op ?? "ping", body);
    const message = body as Syn | { type: "ack2" };
    if (message.type !== "syn") return answered({ type: "done" });
    // A real node's heartbeat is the time since its generation (at least one more each time), so its clock reads right.
    heartbeat = Math.max(heartbeat + 1, Date.now() - generation);
    syns++;
    return handlers.sendAck({ type: "ack", from: url, entries: [{ nodeUrl: url, generation, heartbeat, leaving: false }], requests: [] });
  };
  const server = Bun.serve<BusConnection>({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, srv) => upgradeBus(request, srv, () => true),
    websocket: busWebSocket({
      secret: "",
      // The reply's ok and body travel as the member chose: an error body is thrown back as it is.
      handle: async (call) => {
        const outcome = await reply(peerOpOf(call.op), call.body);
        if (outcome.ok) return outcome.body;
        throw new RawReply(outcome.body);
      },
      errorBody: (error) => (error instanceof RawReply ? error.body : JSON.stringify({ code: "internal", error: String(error) })),
    }),
  });
  const url: string = `http://127.0.0.1:${server.port}`;
  return {
    url,
    syns: () => syns,
    get answer() {
      return handlers.answer;
    },
    set answer(next) {
      handlers.answer = next;
    },
    get sendAck() {
      return handlers.sendAck;
    },
    set sendAck(next) {
      handlers.sendAck = next;
    },
    async [Symbol.asyncDispose]() {
      await server.stop(true);
    },
  };
}

/** An item's reply longer than this, in UTF-16 units, is a member's attack on the reader: it goes on whole. */
const ITEM_REPLY_CHARS_MAX = 64 * 1024;

/**
 * A merged call's reply from the replies to each of its items: an answer's value or a refusal per item. An item
 * answered with something else (not JSON, another shape, a huge body) makes that reply the whole call's, as it came.
 */
async function merged(items: readonly (MemberReply | Promise<MemberReply>)[], valueOf: (answer: unknown) => unknown): Promise<MemberReply> {
  const results: unknown[] = [];
  for (const item of await Promise.all(items)) {
    if (item.body.length > ITEM_REPLY_CHARS_MAX) return item;
    let parsed: unknown;
    try {
      parsed = JSON.parse(item.body);
    } catch {
      return item;
    }
    if (!item.ok && typeof (parsed as { code?: unknown } | null)?.code === "string") results.push(parsed);
    else if (item.ok && typeof parsed === "object" && parsed !== null && valueOf(parsed) !== undefined) results.push(valueOf(parsed));
    else return item;
  }
  return answered({ results });
}

/** An error reply's body, passed through the bus server untouched. */
class RawReply extends Error {
  constructor(readonly body: string) {
    super("a scripted error reply");
  }
}

/**
 * A real node seeded with the member alone. Disposing it stops the node with SIGINT: a graceful leave
 * (SIGTERM) would wait to hand its data off to the member.
 */
export async function startNodeBeside(member: FakeMember, dataDir: string, timing: ClusterTiming): Promise<{ readonly node: NodeProcess } & AsyncDisposable> {
  const node = await startNode({ dataDir, backend: "memory", args: [...timingArgs(timing), "-node.peers", member.url], env: { NODE_PEERS: "", CLUSTER_SECRET: "" } });
  return { node, [Symbol.asyncDispose]: async () => void (await node.interrupt()) };
}
