// Attack: a member's error text, or the system's words for a closed port, passed through to clients (port scanning).
import { describe, expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, readRing, TEST_TIMING, waitUntil, type ClusterTiming } from "../support/cluster.ts";
import { refused, startFakeMember, startNodeBeside, type MemberReply } from "../support/fake-member.ts";
import type { PeerOp } from "../../src/node/peer-wire.ts";
import { delKey, getKey, isJson, setKey, type Answer } from "../support/replication.ts";
import { tempDir } from "../support/temp-dir.ts";

/** Dead only after a minute: a member whose port closed stays in the ring, so requests still go to it. */
const STAYS_IN_RING: ClusterTiming = { ...TEST_TIMING, deadAfterMs: 60_000 };
/** Bound on the wait for the member to join the node's ring. */
const RING_WAIT_MS = 15_000;
/** What a service on some port might say: text a client of the cluster must never read. */
const PEER_TEXT = `SSH-2.0-OpenSSH_9.6 on 127.0.0.1:22 ${crypto.randomUUID()}`;

/** Refuses every write as malformed, fails every read, and fails anything else as internal, each with PEER_TEXT. */
function echoingAnswers(op: PeerOp): MemberReply {
  if (op === "put") return refused("bad_request", PEER_TEXT);
  if (op === "get" || op === "version") return refused("store_unavailable", PEER_TEXT);
  return refused("internal", PEER_TEXT);
}

/** What a client reads from every route that reaches the member: reads, writes, deletes and the replica listing. */
async function clientAnswers(nodeUrl: string, key: string): Promise<Answer[]> {
  const replicas = await fetchNode(`${nodeUrl}/api/v1/replicas/${encodeURIComponent(key)}`);
  return [await getKey(nodeUrl, key), await setKey(nodeUrl, key, "v"), await delKey(nodeUrl, key), { status: replicas.status, text: await replicas.text() }];
}

/** Each answer: its status, and whether its text contains `secret`. */
function statusesAndLeaks(answers: readonly Answer[], secret: string) {
  return answers.map((answer) => ({ status: answer.status, leaks: answer.text.includes(secret), json: isJson(answer.text) }));
}

describe("a client's error messages", () => {
  test(
    "never carry a member's own error text nor the system's words for a closed port, and keep their codes",
    async () => {
      await using dir = await tempDir();
      await using member = startFakeMember(echoingAnswers);
      await using beside = await startNodeBeside(member, dir.path, STAYS_IN_RING);
      const { node } = beside;
      await waitUntil(`${member.url} is in ${node.url}'s ring`, () => readRing(node.url), (ring) => ring.allNodes.includes(member.url), RING_WAIT_MS);

      // The member answers: its refusal keeps its code (400), its failure is a 503, the listing still 200.
      const answered = await clientAnswers(node.url, "echo");
      expect(statusesAndLeaks(answered, PEER_TEXT)).toEqual([
        { status: 503, leaks: false, json: true },
        { status: 400, leaks: false, json: true },
        { status: 400, leaks: false, json: true },
        { status: 200, leaks: false, json: true },
      ]);

      // The member's port closes; it stays in the ring, so every request still goes there.
      await member[Symbol.asyncDispose]();
      const systemText = await fetch(`${member.url}/`).then(
        () => "",
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      expect(systemText).not.toBe("");
      const closed = await clientAnswers(node.url, "echo");
      expect(statusesAndLeaks(closed, systemText)).toEqual([
        { status: 503, leaks: false, json: true },
        { status: 503, leaks: false, json: true },
        { status: 503, leaks: false, json: true },
        { status: 200, leaks: false, json: true },
      ]);
      // In this node's own words: the call that found the port closed, or (once any call did) that the replica is skipped.
      expect(closed[0]!.text).toMatch(new RegExp(`${member.url} is unreachable|replicas can be reached`));
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
