// One suite for the PeerTransport contract, run against the real bus (Bun.serve and WebSockets on 127.0.0.1) and
// the in-process fake tests use: records travel with their versions, many calls at once each get their own
// answer, failures come out as the node's errors (unavailable, timeout, a peer's refusal), and close ends it all.
import { afterEach, describe, expect, test } from "bun:test";
import type { BusTransport } from "../../src/node/bus-transport.ts";
import { groupDigests, sharedDigests } from "../../src/node/anti-entropy.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import type { PutOutcome, StoredRecord } from "../../src/store/record.ts";
import type { NodeError } from "../../src/node/errors.ts";
import { MERGED_WAITING_MAX } from "../../src/node/call-merger.ts";
import { MERGED_ANSWER_CHARS_MAX, PEER_OPS } from "../../src/node/peer-wire.ts";
import { busPeer, VALUE_BYTES_MAX, FUTURE_SENDER, inProcessChannels, inProcessPeer, PEER_NOW_MS, transport, type TestPeer, nodeFailure } from "../support/peers.ts";
import type { PeerCall, PeerCallListener, PeerObserver } from "../../src/node/peer-transport.ts";

interface Setup {
  readonly peer: TestPeer;
  readonly client: BusTransport;
  /** A URL nothing answers at. */
  readonly nowhere: string;
  readonly clock: { peer: string; peerWallMs: number }[];
}

const kinds: Record<string, (forwardTimeoutMs?: number) => Setup> = {
  bus: (forwardTimeoutMs) => {
    const peer = busPeer("s3cret");
    const clock: Setup["clock"] = [];
    const client = transport({ secret: "s3cret", forwardTimeoutMs, onPeerClock: (p, peerWallMs) => clock.push({ peer: p, peerWallMs }) });
    return { peer, client, nowhere: "http://127.0.0.1:1", clock };
  },
  "in-process fake": (forwardTimeoutMs) => {
    const peer = inProcessPeer("http://127.0.0.1:3");
    const clock: Setup["clock"] = [];
    const client = transport({ forwardTimeoutMs, channel: inProcessChannels(() => [peer]), onPeerClock: (p, peerWallMs) => clock.push({ peer: p, peerWallMs }) });
    return { peer, client, nowhere: "http://127.0.0.1:1", clock };
  },
};

function record(key: string, wallMs: number, value = `value of ${key}`): StoredRecord {
  return { key, value, version: { wallMs, counter: 0, node: "http://127.0.0.1:2" }, tombstone: false, expiresAtMs: undefined };
}


for (const [kind, setUp] of Object.entries(kinds)) {
  describe(`the peer transport (${kind})`, () => {
    let current: Setup | undefined;
    const start = (forwardTimeoutMs?: number) => (current = setUp(forwardTimeoutMs));
    afterEach(async () => {
      current?.client.close();
      await current?.peer.stop();
      current = undefined;
    });

    test("puts records, reads them back whole or as a version only, and says which writes lost to newer ones", async () => {
      const { peer, client } = start();
      const now = Date.now();
      expect(await client.putReplica(peer.url, [record("a", now), record("b", now)])).toEqual([
        { applied: true, replacedLive: false },
        { applied: true, replacedLive: false },
      ]);
      expect(await client.putReplica(peer.url, [record("a", now - 1, "older")])).toEqual([{ applied: false, replacedLive: false }]);
      expect(await client.getReplica(peer.url, "a")).toEqual(record("a", now));
      expect(await client.versionOf(peer.url, "b")).toEqual(record("b", now).version);
      expect(await client.getReplica(peer.url, "missing")).toBeUndefined();
      expect(await client.versionOf(peer.url, "missing")).toBeUndefined();
    });

    test("answers 2,000 calls made at once, each with its own answer", async () => {
      const { peer, client } = start();
      const now = Date.now();
      const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);
      const outcomes = await Promise.all(keys.map((key, i) => client.putReplica(peer.url, [record(key, now + (i % 7))])));
      expect(outcomes.every(([outcome]) => outcome?.applied === true)).toBe(true);
      const read = await Promise.all(keys.map((key) => client.getReplica(peer.url, key)));
      expect(read.map((r) => r?.key)).toEqual(keys);
      expect(read.map((r) => r?.version.wallMs)).toEqual(keys.map((_, i) => now + (i % 7)));
    });

    test("gossips: a SYN gets the ACK, an ACK2 is taken, and a SYN refused as from the future tells the sender the peer's time", async () => {
      const { peer, client, clock } = start();
      const ack = await client.syn(peer.url, { type: "syn", from: "http://127.0.0.1:2", digests: [] });
      expect(ack).toEqual({ type: "ack", from: "http://127.0.0.1:1", entries: [], requests: ["http://127.0.0.1:2"] });
      await client.ack2(peer.url, { type: "ack2", from: "http://127.0.0.1:2", entries: [] });
      expect(await client.syn(peer.url, { type: "syn", from: FUTURE_SENDER, digests: [] })).toBeUndefined();
      expect(clock).toEqual([{ peer: peer.url, peerWallMs: PEER_NOW_MS }]);
    });

    test("compares anti-entropy digests: equal trees differ nowhere, and a record the peer holds makes its group differ", async () => {
      const { peer, client } = start();
      const ranges = [{ lo: 0n, hi: 2n ** 64n - 1n }];
      const empty = groupDigests(await sharedDigests(new MemoryBackend({ valueBytesMax: 1024, clock: Date.now }), ranges));
      expect(await client.differingGroups(peer.url, "http://127.0.0.1:2", ranges, empty)).toEqual([]);
      await client.putReplica(peer.url, [record("a", Date.now())]);
      expect(await client.differingGroups(peer.url, "http://127.0.0.1:2", ranges, empty)).toHaveLength(1);
      expect(await client.segmentRecords(peer.url, "http://127.0.0.1:2", ranges, [0, 1, 2], undefined)).toEqual({ records: [], next: undefined });
    });

    test("a body the peer refuses comes back as its refusal, in this node's words", async () => {
      const { peer, client } = start();
      const error = await nodeFailure(client.putReplica(peer.url, [record("", Date.now())]));
      expect(error.code).toBe("bad_request");
      expect(error.message).toBe(`owner ${peer.url} refused the request as malformed`);
      // A version far in the future is refused as clock skew.
      expect((await nodeFailure(client.putReplica(peer.url, [record("k", Date.now() + 3_600_000)]))).code).toBe("clock_skew");
    });

    test("writes of one record made in one turn travel as one call, and each gets the outcome or refusal it would alone", async () => {
      const { peer, client } = start();
      const now = Date.now();
      await client.putReplica(peer.url, [record("held", now + 5)]);
      peer.ops.length = 0;
      const results = await Promise.allSettled([
        client.putReplica(peer.url, [record("a", now)]),
        client.putReplica(peer.url, [record(".", now)]),
        client.putReplica(peer.url, [record("held", now)]),
        client.putReplica(peer.url, [record("future", now + 3_600_000)]),
        client.putReplica(peer.url, [record("b", now)]),
        // Too large to gain from company: it goes in a call of its own, and is refused there.
        client.putReplica(peer.url, [record("big", now, "v".repeat(VALUE_BYTES_MAX + 1))]),
      ]);
      expect(peer.ops.toSorted()).toEqual([PEER_OPS.put, PEER_OPS.putEach]);
      const settled = results.map((result) => (result.status === "fulfilled" ? result.value : (result.reason as NodeError).code));
      expect(settled).toEqual([[{ applied: true, replacedLive: false }], "bad_request", [{ applied: false, replacedLive: false }], "clock_skew", [{ applied: true, replacedLive: false }], "too_large"]);
      expect((results[1] as PromiseRejectedResult).reason.message).toBe(`owner ${peer.url} refused the request as malformed`);
      expect((results[5] as PromiseRejectedResult).reason.message).toBe(`owner ${peer.url} refused the request as too large`);
      expect(await peer.store.get("big")).toBeUndefined();
      expect((await peer.store.get("a"))?.value).toBe("value of a");
      expect(await peer.store.get("future")).toBeUndefined();
    });

    test("a peer from before calls of many writes gets each as a put of its own, and every write is applied", async () => {
      const { peer, client } = start();
      peer.unknownOps.add(PEER_OPS.putEach);
      const now = Date.now();
      const keys = Array.from({ length: 20 }, (_, i) => `old-${i}`);
      const outcomes = await Promise.all(keys.map((key) => client.putReplica(peer.url, [record(key, now)])));
      expect(outcomes).toEqual(keys.map(() => [{ applied: true, replacedLive: false }]));
      expect(peer.ops.filter((op) => op === PEER_OPS.put)).toHaveLength(keys.length);
      // Told once: the next writes go as puts of their own without asking again.
      peer.ops.length = 0;
      await Promise.all(keys.map((key) => client.putReplica(peer.url, [record(key, now + 1)])));
      expect(peer.ops).toEqual(keys.map(() => PEER_OPS.put));
      expect((await Promise.all(keys.map((key) => peer.store.get(key)))).map((stored) => stored?.value)).toEqual(keys.map((key) => `value of ${key}`));
    });

    test("a peer from before merged calls is asked alone only within what is left of the deadline: the write ends at it", async () => {
      const { peer, client } = start(300);
      peer.unknownOps.add(PEER_OPS.putEach);
      // Each call waits 200 ms at the peer: the refused merged call uses 200 of the 300 ms, the put alone would need 200 more.
      peer.stallMs = 200;
      const started = performance.now();
      const error = await nodeFailure(client.putReplica(peer.url, [record("late", Date.now())]));
      const tookMs = performance.now() - started;
      expect(error.code).toBe("timeout");
      expect(tookMs).toBeLessThan(390);
      peer.stallMs = 0;
    });

    test("past the bound of merged writes waiting on a peer, the next write fails at once as unavailable, in this node's words", async () => {
      const { peer, client } = start(5_000);
      peer.stallMs = 500;
      const now = Date.now();
      const waiting = Array.from({ length: MERGED_WAITING_MAX }, (_, i) => client.putReplica(peer.url, [record(`w${i}`, now)]));
      const error = await nodeFailure(client.putReplica(peer.url, [record("one too many", now)]));
      expect(error.code).toBe("unavailable");
      expect(error.message).toBe(`owner ${peer.url} is unreachable`);
      expect((await Promise.all(waiting)).every(([outcome]) => outcome?.applied === true)).toBe(true);
    });

    test("digest reads made in one turn travel as one call, each answered with its key's version or none", async () => {
      const { peer, client } = start();
      const now = Date.now();
      await client.putReplica(peer.url, [record("a", now), record("b", now + 1)]);
      peer.ops.length = 0;
      const versions = await Promise.all(["a", "missing", "b"].map((key) => client.versionOf(peer.url, key)));
      expect(peer.ops).toEqual([PEER_OPS.versionEach]);
      expect(versions).toEqual([record("a", now).version, undefined, record("b", now + 1).version]);
      // A peer from before versionEach gets each digest read as a version call of its own.
      peer.unknownOps.add(PEER_OPS.versionEach);
      peer.ops.length = 0;
      expect(await Promise.all(["a", "missing", "b"].map((key) => client.versionOf(peer.url, key)))).toEqual(versions);
      expect(peer.ops).toEqual([PEER_OPS.versionEach, PEER_OPS.version, PEER_OPS.version, PEER_OPS.version]);
    });

    test("whole reads made in one turn travel as one call; a record the answer has no room for is fetched alone", async () => {
      const { peer, client } = start();
      const now = Date.now();
      const large = "v".repeat(MERGED_ANSWER_CHARS_MAX * 0.6);
      await client.putReplica(peer.url, [record("small", now), record("large-1", now, large), record("large-2", now, large)]);
      peer.ops.length = 0;
      const read = await Promise.all(["small", "missing", "large-1", "large-2"].map((key) => client.getReplica(peer.url, key)));
      expect(read).toEqual([record("small", now), undefined, record("large-1", now, large), record("large-2", now, large)]);
      // The first large record fits beside the small one; the second does not, and is asked for on its own.
      expect(peer.ops).toEqual([PEER_OPS.getEach, PEER_OPS.get]);
      // A peer from before getEach gets each read as a get call of its own.
      peer.unknownOps.add(PEER_OPS.getEach);
      peer.ops.length = 0;
      expect(await Promise.all(["small", "missing"].map((key) => client.getReplica(peer.url, key)))).toEqual([record("small", now), undefined]);
      expect(peer.ops).toEqual([PEER_OPS.getEach, PEER_OPS.get, PEER_OPS.get]);
    });

    test("merged reads come back as compact records, and a peer from before them that answers whole records is read the same", async () => {
      const { peer, client } = start();
      const now = Date.now();
      const expiring = { ...record("b", now + 1), expiresAtMs: now + 60_000 };
      await client.putReplica(peer.url, [record("a", now), expiring, { ...record("gone", now + 2), value: "", tombstone: true }]);
      const keys = ["a", "missing", "b", "gone"];
      const expected = [record("a", now), undefined, expiring, { ...record("gone", now + 2), value: "", tombstone: true }];
      for (const whole of [false, true]) {
        peer.wholeRecords = whole;
        peer.ops.length = 0;
        peer.answers.length = 0;
        expect(await Promise.all(keys.map((key) => client.getReplica(peer.url, key)))).toEqual(expected);
        expect(peer.ops).toEqual([PEER_OPS.getEach]);
        const [first, none] = JSON.parse(peer.answers[0]!).results;
        expect(none).toBeNull();
        expect(first).toEqual(whole ? { key: "a", value: "value of a", version: record("a", now).version, tombstone: false, expiresAtMs: null } : ["value of a", now, 0, "http://127.0.0.1:2", false, null]);
      }
    });

    test("a read with a next step settles with what the step made of its record; a step that throws fails that read alone", async () => {
      const { peer, client } = start();
      const now = Date.now();
      await client.putReplica(peer.url, [record("a", now), record("b", now + 1)]);
      const valueOf = (record: StoredRecord | undefined) => {
        if (record === undefined) throw new Error("no such key");
        return record.value;
      };
      for (const unknown of [false, true]) {
        // Merged into one getEach, and (a peer from before it) as gets of their own.
        if (unknown) peer.unknownOps.add(PEER_OPS.getEach);
        peer.ops.length = 0;
        const reads = await Promise.allSettled(["a", "missing", "b"].map((key) => client.getReplicaThen(peer.url, key, valueOf)));
        expect(reads).toEqual([
          { status: "fulfilled", value: "value of a" },
          { status: "rejected", reason: new Error("no such key") },
          { status: "fulfilled", value: "value of b" },
        ]);
        expect(peer.ops).toEqual(unknown ? [PEER_OPS.getEach, PEER_OPS.get, PEER_OPS.get, PEER_OPS.get] : [PEER_OPS.getEach]);
      }
    });

    test("a read with a failed step settles with what that step made of its failure or of its next step's throw", async () => {
      const { peer, client, nowhere } = start();
      const now = Date.now();
      await client.putReplica(peer.url, [record("a", now)]);
      const valueOf = (record: StoredRecord | undefined) => {
        if (record === undefined) throw new Error("no such key");
        return record.value;
      };
      const failed = (error: unknown) => `failed: ${(error as Error).message}`;
      for (const unknown of [false, true]) {
        // Merged into one getEach, and (a peer from before it) as gets of their own.
        if (unknown) peer.unknownOps.add(PEER_OPS.getEach);
        const reads = await Promise.all(["a", "missing"].map((key) => client.getReplicaThen(peer.url, key, valueOf, failed)));
        expect(reads).toEqual(["value of a", "failed: no such key"]);
        expect(await client.getReplicaThen(nowhere, "a", valueOf, failed)).toBe(`failed: owner ${nowhere} is unreachable`);
      }
    });

    test("a write with a next step settles with what the step made of its outcome; a step that throws fails that write alone", async () => {
      const { peer, client } = start();
      const now = Date.now();
      await client.putReplica(peer.url, [record("b", now + 10)]);
      const applied = (outcome: PutOutcome) => {
        if (!outcome.applied) throw new Error("not applied");
        return outcome.replacedLive ? "replaced" : "new";
      };
      for (const unknown of [false, true]) {
        // Merged into one putEach, and (a peer from before it) as puts of their own.
        if (unknown) peer.unknownOps.add(PEER_OPS.putEach);
        peer.ops.length = 0;
        const writes = await Promise.allSettled([record(`a${unknown}`, now), record("b", now), record(`c${unknown}`, now)].map((r) => client.putReplicaThen(peer.url, r, applied)));
        expect(writes).toEqual([
          { status: "fulfilled", value: "new" },
          { status: "rejected", reason: new Error("not applied") },
          { status: "fulfilled", value: "new" },
        ]);
        expect(peer.ops).toEqual(unknown ? [PEER_OPS.putEach, PEER_OPS.put, PEER_OPS.put, PEER_OPS.put] : [PEER_OPS.putEach]);
      }
      expect((await client.getReplica(peer.url, "atrue"))?.value).toBe("value of atrue");
    });

    test("a listener hears a turn's merged reads once, with their item count; an observer (tracing) sees each read", async () => {
      const heardCalls: PeerCall[] = [];
      const outcomes: string[] = [];
      const listen: PeerCallListener = (call) => {
        heardCalls.push(call);
        return (outcome) => outcomes.push("value" in outcome ? "answered" : "failed");
      };
      const { peer } = start();
      const listened = transport({ secret: "s3cret", channel: kind === "bus" ? undefined : inProcessChannels(() => [peer]), listen });
      const observedCalls: PeerCall[] = [];
      const observe: PeerObserver = (call, _carrier, send) => {
        observedCalls.push(call);
        return send();
      };
      const traced = transport({ secret: "s3cret", channel: kind === "bus" ? undefined : inProcessChannels(() => [peer]), listen, observe });
      try {
        await Promise.all(["a", "b", "c"].map((key) => listened.getReplicaThen(peer.url, key, (found) => found)));
        await Promise.all(["d", "e"].map((key) => listened.versionOf(peer.url, key)));
        expect(heardCalls).toEqual([
          { op: "get", target: peer.url, items: 3 },
          { op: "version", target: peer.url, items: 2 },
        ]);
        expect(outcomes).toEqual(["answered", "answered"]);
        // A record the answer has no room for is asked for alone as part of its item: still one call of three items.
        const large = "v".repeat(MERGED_ANSWER_CHARS_MAX * 0.6);
        await listened.putReplica(peer.url, [record("large-1", Date.now(), large), record("large-2", Date.now(), large)]);
        heardCalls.length = 0;
        peer.ops.length = 0;
        await Promise.all(["a", "large-1", "large-2"].map((key) => listened.getReplica(peer.url, key)));
        expect(peer.ops).toEqual([PEER_OPS.getEach, PEER_OPS.get]);
        expect(heardCalls).toEqual([{ op: "get", target: peer.url, items: 3 }]);
        heardCalls.length = 0;
        // With an observer, each read is a call it sees; those that carry no trace still travel merged.
        peer.ops.length = 0;
        await Promise.all(["a", "b"].map((key) => traced.getReplica(peer.url, key)));
        expect(observedCalls).toEqual([
          { op: "get", target: peer.url },
          { op: "get", target: peer.url },
        ]);
        expect(heardCalls).toEqual([{ op: "get", target: peer.url, items: 2 }]);
        expect(peer.ops).toEqual([PEER_OPS.getEach]);
      } finally {
        listened.close();
        traced.close();
      }
    });

    test("a peer that is not there is unavailable at once, and a ping says so", async () => {
      const { client, nowhere, peer } = start();
      const started = performance.now();
      const error = await nodeFailure(client.getReplica(nowhere, "k"));
      expect(error.code).toBe("unavailable");
      expect(error.message).toBe(`owner ${nowhere} is unreachable`);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(await client.ping(nowhere)).toBe(false);
      expect(await client.ping(peer.url)).toBe(true);
    });

    test("a stalled peer's calls fail as timeouts at their deadline, not later", async () => {
      const { peer, client } = start(300);
      peer.stallMs = 2_000;
      const started = performance.now();
      const errors = await Promise.all(Array.from({ length: 20 }, (_, i) => nodeFailure(client.getReplica(peer.url, `k${i}`))));
      const tookMs = performance.now() - started;
      expect(new Set(errors.map((error) => error.code))).toEqual(new Set(["timeout"]));
      expect(tookMs).toBeGreaterThanOrEqual(290);
      expect(tookMs).toBeLessThan(1_500);
      peer.stallMs = 0;
      // The link recovers: the next calls are answered.
      await Bun.sleep(2_100);
      expect(await client.getReplica(peer.url, "k0")).toBeUndefined();
    });

    test("after close every call fails as unavailable", async () => {
      const { peer, client } = start();
      expect(await client.ping(peer.url)).toBe(true);
      client.close();
      expect((await nodeFailure(client.getReplica(peer.url, "k"))).code).toBe("unavailable");
    });
  });
}

test("a merged read answered with forged compact records fails as not a LimeDB reply, and nothing of it is taken", async () => {
  const target = "http://127.0.0.1:4";
  const forgeries: unknown[][] = [
    ["v", 1, 0, "http://127.0.0.1:2", false],
    ["v", "1", 0, "http://127.0.0.1:2", false, null],
    ["v", 1, 0, "", false, null],
    ["v", -1, 0, "http://127.0.0.1:2", false, null],
    ["v", 1, 0, "http://127.0.0.1:2", false, null, "extra"],
    [{ value: "v" }, 1, 0, "http://127.0.0.1:2", false, null],
  ];
  for (const forged of forgeries) {
    const client = transport({
      channel: () => ({
        call: async (_op, body) => ({ ok: true, body: JSON.stringify({ results: (JSON.parse(body) as { keys: string[] }).keys.map(() => forged) }) }),
        sweep: () => undefined,
        close: () => undefined,
      }),
    });
    try {
      const errors = await Promise.all(["a", "b"].map((key) => nodeFailure(client.getReplica(target, key))));
      expect(errors.map((error) => [error.code, error.message])).toEqual(Array(2).fill(["unavailable", `owner ${target} answered something that is not a LimeDB reply`]));
    } finally {
      client.close();
    }
  }
});
