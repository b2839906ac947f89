// The checker on hand-made histories: a clean one reports nothing, and each kind of tampering is reported, so
// the fault suite cannot pass by finding nothing.
import { describe, expect, test } from "bun:test";
import { check as checkWith, judgeRead, type AnsweredRead } from "./checker.ts";
import type { FaultWindow, History, Operation, ReadOperation, ReplicaSnapshot, WriteOperation } from "./history.ts";

const A = "http://127.0.0.11:1";
const B = "http://127.0.0.12:1";
const C = "http://127.0.0.13:1";

function write(key: string, value: string, invokedMs: number, completedMs: number, outcome: WriteOperation["outcome"] = "ok", node = A): WriteOperation {
  return { kind: "write", workload: key.startsWith("set-") ? "set" : "register", phase: "run", client: 0, key, node, invokedMs, completedMs, outcome, answer: outcome === "ok" ? "200" : "503", value };
}

function read(key: string, seen: string | null, invokedMs: number, completedMs: number, phase: ReadOperation["phase"] = "run", node = B): AnsweredRead {
  return { kind: "read", workload: key.startsWith("set-") ? "set" : "register", phase, client: 1, key, node, invokedMs, completedMs, outcome: "ok", answer: seen === null ? "404" : "200", seen };
}

function snapshot(key: string, versions: readonly (string | null)[]): ReplicaSnapshot {
  return {
    key,
    workload: key.startsWith("set-") ? "set" : "register",
    listedBy: A,
    replicas: versions.map((version, i) => ({ node: [A, B, C][i]!, holds: version !== null, version, tombstone: false })),
  };
}

/** Two keys overwritten in turn and read back, one set key, a partition window, replicas in agreement. */
function cleanHistory(): { operations: Operation[]; windows: FaultWindow[]; replicas: ReplicaSnapshot[] } {
  return {
    operations: [
      write("r1", "r1=a", 0, 10),
      read("r1", "r1=a", 20, 25),
      write("r1", "r1=b", 30, 40),
      // Concurrent with the write of r1=c: either value is fine.
      write("r1", "r1=c", 50, 70, "maybe"),
      read("r1", "r1=b", 55, 60),
      read("r1", "r1=c", 80, 85),
      write("r2", "r2=a", 5, 8, "ok", C),
      read("r2", null, 1, 4),
      read("r2", "r2=a", 90, 95),
      write("set-1", "v1", 10, 20),
      write("set-2", "v2", 10, 20, "maybe"),
      read("r1", "r1=c", 200, 210, "final"),
      read("r2", "r2=a", 200, 210, "final"),
      read("set-1", "v1", 200, 210, "final"),
      read("set-2", null, 200, 210, "final"),
    ],
    windows: [
      {
        fault: "partition",
        startMs: 0,
        endMs: 100,
        groups: [
          { name: "majority", nodes: [A, B], minority: false },
          { name: "minority", nodes: [C], minority: true },
        ],
      },
    ],
    replicas: [snapshot("r1", ["v9", "v9", "v9"]), snapshot("r2", ["v3", "v3", "v3"]), snapshot("set-1", ["v1", "v1", "v1"]), snapshot("set-2", [null, null, null])],
  };
}

const WRITE_QUORUM = 2;

function check(history: History) {
  return checkWith(history, { writeQuorum: WRITE_QUORUM });
}

const zeros = { staleReads: 0, phantomReads: 0, lostToOlder: 0, registerMissing: 0, setLost: 0, setUnknown: 0, divergentKeys: 0 };

function counts(history: History) {
  const result = check(history);
  return {
    staleReads: result.staleReads,
    phantomReads: result.phantomReads,
    lostToOlder: result.lostToOlder,
    registerMissing: result.registerMissing,
    setLost: result.setLost,
    setUnknown: result.setUnknown,
    divergentKeys: result.divergentKeys,
  };
}

describe("the checker", () => {
  test("reports nothing on a clean history", () => {
    const history = cleanHistory();
    // The write of r2 through the minority node C is acknowledged: that one is a finding of its own.
    history.operations[6] = write("r2", "r2=a", 5, 8, "ok", A);
    const result = check(history);
    expect(counts(history)).toEqual(zeros);
    expect(result.minorityAcks).toBe(0);
    expect(result.examples).toEqual([]);
    expect(result.operations).toBe(history.operations.length);
    expect(result.acknowledgedWrites).toBe(4);
  });

  test("counts availability per side of the fault window", () => {
    const result = check(cleanHistory());
    const byGroup = Object.fromEntries(result.availability.map((g) => [g.group, { total: g.total, ok: g.ok }]));
    // Run-phase operations invoked in [0, 100): ten via A or B (two of them maybe applied), one via C.
    expect(byGroup).toEqual({ majority: { total: 10, ok: 8 }, minority: { total: 1, ok: 1 } });
  });

  test("reports a write acknowledged by a node of the minority side that held fewer than a write quorum of the key's replicas", () => {
    const result = check(cleanHistory());
    expect({ all: result.minorityAcks, withoutQuorum: result.minorityAcksWithoutQuorum }).toEqual({ all: 1, withoutQuorum: 1 });
    expect(result.examples.join("\n")).toContain("minority");
  });

  test("tells a minority-side acknowledgement backed by a write quorum of replicas on that side from one that is not", () => {
    const history = cleanHistory();
    const minority = { name: "minority", nodes: [B, C], minority: true };
    history.windows[0] = { ...history.windows[0]!, groups: [{ name: "majority", nodes: [A], minority: false }, minority] };
    // r2's replicas are A, B and C: B and C, two of three, are a write quorum on the minority side.
    const result = check(history);
    expect({ all: result.minorityAcks, withoutQuorum: result.minorityAcksWithoutQuorum }).toEqual({ all: 1, withoutQuorum: 0 });
  });

  test("reports a read that returned an overwritten value, with how stale it was", () => {
    const history = cleanHistory();
    // r1=a was acknowledged at 10; r1=b was invoked at 30 and acknowledged at 40; this read starts at 90.
    history.operations.push(read("r1", "r1=a", 90, 95));
    const result = check(history);
    expect(counts(history)).toEqual({ ...zeros, staleReads: 1 });
    expect(result.oldestStaleMs).toBe(50);
  });

  test("reports a read of 'not found' after a write was acknowledged", () => {
    const history = cleanHistory();
    history.operations.push(read("r2", null, 100, 101));
    expect(counts(history)).toEqual({ ...zeros, staleReads: 1 });
    expect(check(history).oldestStaleMs).toBe(92);
  });

  test("reports a value nobody wrote, and one whose write was refused", () => {
    const history = cleanHistory();
    history.operations.push(read("r1", "r1=never", 90, 95));
    history.operations.push(write("r2", "r2=refused", 91, 92, "fail"), read("r2", "r2=refused", 93, 94));
    expect(counts(history)).toEqual({ ...zeros, phantomReads: 2 });
  });

  test("reports a key whose final value is an acknowledged write older than another acknowledged one", () => {
    const history = cleanHistory();
    history.operations.push(read("r1", "r1=a", 200, 210, "final", C));
    expect(counts(history)).toEqual({ ...zeros, lostToOlder: 1 });
  });

  test("reports a register key read as missing after healing", () => {
    const history = cleanHistory();
    history.operations.push(read("r2", null, 200, 210, "final", C));
    expect(counts(history)).toEqual({ ...zeros, registerMissing: 1 });
  });

  test("reports an acknowledged set key missing through one node", () => {
    const history = cleanHistory();
    history.operations.push(read("set-1", null, 200, 210, "final", C));
    expect(counts(history)).toEqual({ ...zeros, setLost: 1 });
  });

  test("reports an acknowledged set key whose final reads all failed as unknown, not as kept", () => {
    const history = cleanHistory();
    const failed: ReadOperation = { ...read("set-1", null, 200, 210, "final"), outcome: "maybe", seen: undefined, answer: "TimeoutError" };
    history.operations = history.operations.filter((op) => !(op.key === "set-1" && op.phase === "final")).concat(failed);
    expect(counts(history)).toEqual({ ...zeros, setUnknown: 1 });
  });

  test.each([
    ["a replica holding another version", ["v9", "v9", "v8"]],
    ["a replica holding nothing", ["v9", null, "v9"]],
  ])("reports a divergent key: %s", (_, versions) => {
    const history = cleanHistory();
    history.replicas[0] = snapshot("r1", versions);
    expect(counts(history)).toEqual({ ...zeros, divergentKeys: 1 });
  });

  test("reports a key whose replica did not answer as divergent", () => {
    const history = cleanHistory();
    history.replicas[0] = { ...snapshot("r1", ["v9", "v9", "v9"]), replicas: [...snapshot("r1", ["v9", "v9"]).replicas, { node: C, holds: false, version: null, tombstone: false, error: "timeout" }] };
    expect(counts(history)).toEqual({ ...zeros, divergentKeys: 1 });
  });
});

describe("judging one read", () => {
  const writes = [write("k", "k=1", 0, 10), write("k", "k=2", 5, 20), write("k", "k=3", 30, 40, "maybe")];

  test.each([
    ["a value whose write overlaps the newer one", "fresh", "k=1", 25],
    ["the newest acknowledged value", "fresh", "k=2", 50],
    ["a maybe-applied value", "fresh", "k=3", 50],
    ["not found before any write finished", "fresh", null, 9],
    ["not found after a write finished", "stale", null, 11],
    ["a value never written", "phantom", "k=9", 50],
  ] as const)("%s is %s", (_, expected, seen, invokedMs) => {
    expect(judgeRead(read("k", seen, invokedMs, invokedMs + 1), writes).kind).toBe(expected);
  });

  test("a value acknowledged before a newer write was invoked is stale once that write finished", () => {
    const later = [...writes, write("k", "k=4", 50, 60)];
    expect(judgeRead(read("k", "k=2", 59, 62), later).kind).toBe("fresh");
    expect(judgeRead(read("k", "k=2", 70, 72), later)).toMatchObject({ kind: "stale", byMs: 10 });
  });
});
