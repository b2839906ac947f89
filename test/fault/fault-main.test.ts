// The fault suite's command line and exit: a finding, or a fault that did not converge after healing, fails the
// run unless --lenient is given.
import { describe, expect, test } from "bun:test";
import { findingsOf, parseArgs } from "./fault-main.ts";
import type { FaultSummary } from "./report.ts";

const clean: FaultSummary = {
  fault: "partition",
  runs: 1,
  failedRuns: 0,
  operations: 100,
  acknowledgedWrites: 40,
  setLost: 0,
  setUnknown: 3,
  staleReads: 0,
  oldestStaleMs: 0,
  lostToOlder: 0,
  registerMissing: 0,
  phantomReads: 0,
  minorityAcks: 5,
  minorityAcksWithoutQuorum: 0,
  divergentKeys: 0,
  availability: [],
  convergedAfterMsMax: 3_500,
};

describe("fault-main", () => {
  test("a finding fails the run by default; --lenient only prints it, --strict is still taken", () => {
    expect(parseArgs([]).strict).toBe(true);
    expect(parseArgs(["--lenient"]).strict).toBe(false);
    expect(parseArgs(["--strict"]).strict).toBe(true);
    expect(() => parseArgs(["--loose"])).toThrow(/unknown argument/);
  });

  test("a clean fault has no finding; unknown fates and minority acks with a quorum are not findings", () => {
    expect(findingsOf([clean])).toBe(0);
  });

  test("each broken promise counts, and a fault whose runs did not all converge counts once", () => {
    expect(findingsOf([{ ...clean, staleReads: 2 }, { ...clean, setLost: 1, divergentKeys: 4 }])).toBe(7);
    expect(findingsOf([{ ...clean, phantomReads: 1, lostToOlder: 1, registerMissing: 1, minorityAcksWithoutQuorum: 1 }])).toBe(4);
    expect(findingsOf([{ ...clean, convergedAfterMsMax: undefined }])).toBe(1);
    // Runs that all failed to complete are failed runs, not a convergence finding.
    expect(findingsOf([{ ...clean, failedRuns: 1, convergedAfterMsMax: undefined }])).toBe(0);
  });
});
