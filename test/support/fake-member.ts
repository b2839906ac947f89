// A fake cluster member for attack tests: a real HTTP server on 127.0.0.1 that gossips just enough to be
// in a real node's ring, and answers everything else as the test says.
import type { Ack, Syn } from "../../src/membership/messages.ts";
import { timingArgs, type ClusterTiming } from "./cluster.ts";
import { startNode, type NodeProcess } from "./node-process.ts";

/** Answers a request other than gossip; `path` is the URL's path. */
export type MemberAnswer = (request: Request, path: string) => Response | Promise<Response>;

export interface FakeMember extends AsyncDisposable {
  /** Its own URL, as it names itself in every ACK: http://127.0.0.1:<port>. */
  readonly url: string;
  /** SYNs it has answered so far. */
  readonly syns: () => number;
  /** How it answers everything but gossip; the test may swap it at any time. */
  answer: MemberAnswer;
  /** How it sends a well-formed ACK back; the default sends it as it is. */
  sendAck: (ack: Ack) => Response;
}

/**
 * Starts a member that answers every SYN with an ACK naming itself at a rising heartbeat, so a node
 * that exchanges gossip with it holds it active (it is heard from directly, as a real member is).
 * It asks for nothing back and passes on no other member.
 */
export function startFakeMember(answer: MemberAnswer): FakeMember {
  const generation = Date.now();
  let heartbeat = 0;
  let syns = 0;
  const handlers = { answer, sendAck: (ack: Ack) => Response.json(ack) };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request): Promise<Response> {
      const path = new URL(request.url).pathname;
      if (path !== "/gossip") return handlers.answer(request, path);
      const message = (await request.json()) as Syn | { type: "ack2" };
      if (message.type !== "syn") return Response.json({ type: "done" });
      // A real node's heartbeat is the time since its generation (at least one more each time), so its clock reads right.
      heartbeat = Math.max(heartbeat + 1, Date.now() - generation);
      syns++;
      return handlers.sendAck({ type: "ack", from: url, entries: [{ nodeUrl: url, generation, heartbeat, leaving: false }], requests: [] });
    },
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

/**
 * A real node seeded with the member alone. Disposing it stops the node with SIGINT: a graceful leave
 * (SIGTERM) would wait to hand its data off to the member.
 */
export async function startNodeBeside(member: FakeMember, dataDir: string, timing: ClusterTiming): Promise<{ readonly node: NodeProcess } & AsyncDisposable> {
  const node = await startNode({ dataDir, backend: "memory", args: [...timingArgs(timing), "-node.peers", member.url], env: { NODE_PEERS: "", CLUSTER_SECRET: "" } });
  return { node, [Symbol.asyncDispose]: async () => void (await node.interrupt()) };
}
