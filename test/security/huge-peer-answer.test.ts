// Attack: a member answers replica reads, writes and gossip on the bus with 50 MiB replies, to blow up a real node's memory.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, readRing, readState, removeMember, waitUntil, type ClusterTiming } from "../support/cluster.ts";
import type { Ack } from "../../src/membership/messages.ts";
import { answered, startFakeMember, startNodeBeside, type FakeMember, type MemberReply } from "../support/fake-member.ts";
import type { PeerOp } from "../../src/node/peer-wire.ts";
import { getKey, inParallel, setKey, type Answer } from "../support/replication.ts";
import { tempDir } from "../support/temp-dir.ts";

/** What the fake member sends back for every answer: the size the attack was reported with. */
const HUGE_ANSWER_BYTES = 50 * 1024 * 1024;
/** Client requests sent while the member answers huge: enough that reading them whole would cost gigabytes. */
const REQUESTS = 24;
/** Client requests in flight at once, so answers read whole would also pile up in memory together. */
const CONCURRENCY = 4;
/**
 * How far the node's resident memory may rise over the attack. Capped reads hold a few MiB per answer
 * (a replica read's cap is about 6 MiB at the default VALUE_BYTES_MAX) until the collector frees
 * them: 20 to 40 MiB in all, measured. Answers read whole added over 400 MiB.
 */
const RSS_GROWTH_BYTES_MAX = 96 * 1024 * 1024;
const MIB = 1024 * 1024;
/**
 * Timeouts long enough that a node reading answers whole would finish reading them (50 MiB on
 * loopback takes well under the bounds), so only the caps keep the attack out: a forward within 4 s,
 * a gossip exchange within 0.8 of the 500 ms interval.
 */
const ATTACK_TIMING: ClusterTiming = { intervalMs: 500, staleAfterMs: 2000, deadAfterMs: 4000, forwardTimeoutMs: 4000 };
/** Bound on the waits for the member to join and, once its ACKs are ignored, to leave the ring. */
const RING_WAIT_MS = 15_000;

/** A 50 MiB answer that is valid JSON of the operation's shape, so a reader that takes it whole parses it all. */
function hugeJson(prefix: string, suffix: string): string {
  return prefix + "a".repeat(HUGE_ANSWER_BYTES - prefix.length - suffix.length) + suffix;
}

const HUGE_READ = hugeJson('{"record":{"key":"k","version":{"wallMs":1,"counter":0,"node":"http://127.0.0.1:1"},"tombstone":false,"expiresAtMs":null,"value":"', '"}}');
const HUGE_VERSION = hugeJson('{"version":{"wallMs":1,"counter":0,"node":"http://127.0.0.1:1"},"padding":"', '"}');
const HUGE_OUTCOMES = hugeJson('{"outcomes":[{"applied":true,"replacedLive":false}],"padding":"', '"}');

/** A valid ACK after 50 MiB of spaces (JSON allows them), so a reader that takes it whole accepts it. */
function paddedAck(ack: Ack): MemberReply {
  return { ok: true, body: " ".repeat(HUGE_ANSWER_BYTES) + JSON.stringify(ack) };
}

/** Answers every replica call with a 50 MiB reply. */
function hugeAnswers(op: PeerOp): MemberReply {
  return { ok: true, body: op === "get" ? HUGE_READ : op === "version" ? HUGE_VERSION : HUGE_OUTCOMES };
}

/** A well-formed answer to each operation, so the member is a healthy one until the attack begins. */
function healthyAnswers(op: PeerOp): MemberReply {
  if (op === "get") return answered({ record: null });
  if (op === "version") return answered({ version: null });
  if (op === "put") return answered({ outcomes: [{ applied: true, replacedLive: false }] });
  if (op === "ping") return answered(null);
  return answered({ records: [], next: null });
}

/** The process's resident memory in bytes, from /proc. */
function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  if (line === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(line.replace(/\D/g, "")) * 1024;
}

/** Every answer a JSON error with a 503 or 504 status: the member answered garbage, or too slowly. */
function expectRefusals(answers: readonly Answer[]): void {
  const wrong = answers.filter((answer) => {
    if (answer.status !== 503 && answer.status !== 504) return true;
    const body = JSON.parse(answer.text) as { error?: unknown; code?: unknown };
    return typeof body.error !== "string" || typeof body.code !== "string";
  });
  expect(wrong.map((answer) => `${answer.status} ${answer.text.slice(0, 200)}`)).toEqual([]);
}

/** Waits until the member is in (or out of) the node's ring, calling `onPoll` at each look. */
function waitForRing(nodeUrl: string, member: FakeMember, inRing: boolean, onPoll: () => void = () => undefined) {
  const what = `${member.url} is ${inRing ? "in" : "out of"} ${nodeUrl}'s ring`;
  const read = () => {
    onPoll();
    return readRing(nodeUrl);
  };
  return waitUntil(what, read, (ring) => ring.allNodes.includes(member.url) === inRing, RING_WAIT_MS);
}

describe("a member that answers with 50 MiB bodies", () => {
  test(
    "is read only up to each route's cap: the node's memory stays flat, clients get JSON 503/504, and the node keeps serving",
    async () => {
      await using dir = await tempDir();
      await using member = startFakeMember(healthyAnswers);
      await using beside = await startNodeBeside(member, dir.path, ATTACK_TIMING);
      const { node } = beside;
      await waitForRing(node.url, member, true);
      const before = await setKey(node.url, "before", "v");
      expect(before.text).toBe("OK");
      expect(before.status).toBe(200);

      const baseline = rssBytes(node.process.pid);
      let peak = baseline;
      const sample = () => void (peak = Math.max(peak, rssBytes(node.process.pid)));
      member.answer = hugeAnswers;
      const keys = Array.from({ length: REQUESTS }, (_, i) => `attacked-${i}`);
      const answers = await inParallel(keys, CONCURRENCY, async (key, i) => {
        // A node that reads the answers whole may not answer in time at all: that is recorded, not thrown.
        const answer = await (i % 2 === 0 ? getKey(node.url, key) : setKey(node.url, key, "v")).catch((error: unknown) => ({ status: 0, text: `no answer: ${String(error)}` }));
        sample();
        return answer;
      });
      expectRefusals(answers);

      // Gossip too: an ACK past the gossip body limit is ignored, so the member, never heard from, is held dead.
      member.sendAck = paddedAck;
      const synsBefore = member.syns();
      await waitUntil(`${member.url} is dead on ${node.url}`, () => (sample(), readState(node.url)), (state) => state.members.some((m) => m.url === member.url && m.state === "dead"), RING_WAIT_MS);
      expect(member.syns()).toBeGreaterThan(synsBefore);
      sample();
      expect(Math.round((peak - baseline) / MIB)).toBeLessThan(RSS_GROWTH_BYTES_MAX / MIB);

      // Dead, it keeps its ranges: with two copies a write needs it, and is refused at once, unapplied.
      const refused = await setKey(node.url, "after", "v");
      expect(refused.status).toBe(503);
      expect(refused.text).toContain("the write was not applied");
      // Once removed, the node is alone and serves every request itself. Alone, it sees no majority of two: the
      // removal needs the operator's force, and is refused without it.
      expect((await removeMember(node.url, member.url, "")).status).toBe(409);
      expect((await removeMember(node.url, member.url, "", true)).status).toBe(200);
      await waitForRing(node.url, member, false, sample);
      expect((await setKey(node.url, "after", "v")).status).toBe(200);
      expect((await getKey(node.url, "after")).value).toBe("v");
      expect((await fetchNode(`${node.url}/api/v1/health`)).status).toBe(200);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
