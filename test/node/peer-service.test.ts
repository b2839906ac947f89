// The answering side of putEach: each record judged as a put of its own, its outcome counted on its own.
import { expect, test } from "bun:test";
import { FutureBound } from "../../src/clock/future-bound.ts";
import { HybridClock } from "../../src/node/hlc.ts";
import { PeerService } from "../../src/node/peer-service.ts";
import { PEER_OPS } from "../../src/node/peer-wire.ts";
import { fromWire, toWire } from "../../src/node/record-wire.ts";
import { ReplicaService } from "../../src/node/replica-service.ts";
import { arcsOf } from "../../src/ring/arcs.ts";
import { buildRing, replicasOf } from "../../src/ring/ring.ts";
import { MemoryBackend } from "../../src/store/memory.ts";
import type { NodeError } from "../../src/node/errors.ts";
import type { Backend } from "../../src/store/backend.ts";

const SELF = "http://127.0.0.1:3";
const NOW_MS = 1_700_000_000_000;

/** The answering side over `store`, as one node of a ring of itself; each item it answers is counted in `counted`. */
function serviceOver(store: Backend) {
  const future = new FutureBound({ maxSkewMs: 500, clock: () => NOW_MS });
  const ring = buildRing([SELF], 16);
  const replicas = new ReplicaService({ self: SELF, store, clock: new HybridClock(SELF, () => NOW_MS, () => future.limitMs()), ring: () => ring, replicasFor: (r, key) => replicasOf(r, key, 1), arcs: (r) => arcsOf(r, 1), valueBytesMax: 1024, future });
  const counted: string[] = [];
  const service = new PeerService({ replicas, gossip: {} as never, clock: () => NOW_MS, onItems: (op, outcome, count) => counted.push(...Array.from({ length: count }, () => `${op} ${outcome}`)) });
  return { service, replicas, counted };
}

test("a putEach answers every record as a put of its own would, a versionEach every key as a version call, each item counted as its own call", async () => {
  const store = new MemoryBackend({ valueBytesMax: 1024, clock: () => NOW_MS });
  const { service, counted } = serviceOver(store);
  const record = (key: string, wallMs: number, value = "v") => toWire({ key, value, version: { wallMs, counter: 0, node: "http://127.0.0.1:2" }, tombstone: false, expiresAtMs: undefined });
  const answer = JSON.parse(
    await service.handle(PEER_OPS.putEach, JSON.stringify({ records: [record("a", NOW_MS), record("future", NOW_MS + 60_000), record("big", NOW_MS, "v".repeat(1025)), record("b", NOW_MS)] })),
  );
  expect(answer.results).toEqual([
    { applied: true, replacedLive: false },
    { code: "clock_skew", error: expect.any(String), nowMs: NOW_MS },
    { code: "too_large", error: "value is over the limit of 1024 UTF-8 bytes" },
    { applied: true, replacedLive: false },
  ]);
  expect(counted.toSorted()).toEqual(["put clock_skew", "put ok", "put ok", "put too_large"]);
  expect((await store.get("a"))?.value).toBe("v");
  expect(await store.get("future")).toBeUndefined();
  expect(await store.get("big")).toBeUndefined();
  // A versionEach answers each key's version, or null for none, as so many version calls; each counted as one.
  counted.length = 0;
  const versions = JSON.parse(await service.handle(PEER_OPS.versionEach, JSON.stringify({ keys: ["a", "missing", "b"] })));
  expect(versions.results).toEqual([{ wallMs: NOW_MS, counter: 0, node: "http://127.0.0.1:2" }, null, { wallMs: NOW_MS, counter: 0, node: "http://127.0.0.1:2" }]);
  expect(counted).toEqual(["version ok", "version ok", "version ok"]);
  // A getEach answers each key's record, or null for none, as so many get calls.
  counted.length = 0;
  const reads = JSON.parse(await service.handle(PEER_OPS.getEach, JSON.stringify({ keys: ["missing", "b"] })));
  expect(reads.results).toEqual([null, record("b", NOW_MS)]);
  expect(counted).toEqual(["get ok", "get ok"]);
  // Asked for compact records, it answers each as its fields in order, without the key the caller asked for.
  const compact = JSON.parse(await service.handle(PEER_OPS.getEach, JSON.stringify({ keys: ["missing", "b"], compact: true })));
  const { value, version, tombstone } = record("b", NOW_MS);
  expect(compact.results).toEqual([null, [value, version.wallMs, version.counter, version.node, tombstone, null]]);
});

test("a merged read answers each key as a read of it alone would, a closed store's refusal included", async () => {
  for (const closed of [false, true]) {
    const store = new MemoryBackend({ valueBytesMax: 1024, clock: () => NOW_MS });
    await store.put({ key: "b", value: "v", version: { wallMs: NOW_MS, counter: 0, node: "http://127.0.0.1:2" }, tombstone: false, expiresAtMs: undefined });
    if (closed) await store.close();
    const { service } = serviceOver(store);
    const keys = ["missing", "b"];
    const alone = async (op: "get" | "version") =>
      Promise.all(
        keys.map(async (key) => {
          try {
            const answer = JSON.parse(await service.handle(PEER_OPS[op], JSON.stringify({ key })));
            return op === "get" ? answer.record : answer.version;
          } catch (error) {
            return { code: (error as NodeError).code, error: (error as Error).message };
          }
        }),
      );
    const merged = async (op: "getEach" | "versionEach") => JSON.parse(await service.handle(PEER_OPS[op], JSON.stringify({ keys }))).results;
    expect(await merged("getEach")).toEqual(await alone("get"));
    expect(await merged("versionEach")).toEqual(await alone("version"));
    if (closed) expect((await merged("getEach"))[0].code).toBe("store_unavailable");
    else expect((await merged("getEach"))[1].value).toBe("v");
  }
});

test("a putEach to a store that fails answers each record with the store's refusal, as a put of its own would", async () => {
  const store = new MemoryBackend({ valueBytesMax: 1024, clock: () => NOW_MS });
  await store.close();
  const { service, replicas, counted } = serviceOver(store);
  const record = (key: string) => toWire({ key, value: "v", version: { wallMs: NOW_MS, counter: 0, node: "http://127.0.0.1:2" }, tombstone: false, expiresAtMs: undefined });
  const answer = JSON.parse(await service.handle(PEER_OPS.putEach, JSON.stringify({ records: [record("a"), record(".")] })));
  expect(answer.results.map((result: { code: string }) => result.code)).toEqual(["store_unavailable", "bad_request"]);
  expect(counted).toEqual(["put store_unavailable", "put bad_request"]);
  await expect(replicas.put([fromWire(record("a"))])).rejects.toMatchObject({ code: "store_unavailable" });
});
