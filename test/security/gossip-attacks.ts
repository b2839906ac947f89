// Helpers of the gossip attack tests: forged messages posted to a node, and a cluster watched for several rounds.
import { expect } from "bun:test";
import { fetchNode, readViews, waitForAgreement, type ClusterTiming } from "../support/cluster.ts";
import { JSON_HEADERS } from "./serving.ts";

/** 2^53 - 1: the largest generation the schema lets through, and what the old table then pushed past. */
export const HUGE = Number.MAX_SAFE_INTEGER;
export const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
/** Rounds a cluster is watched after an attack: past the dead-after timeout, so a node cut out would show it. */
export const WATCH_DEAD_PERIODS = 2;
/** Bound on a wait that should never come near it; it only keeps a broken cluster from hanging the suite. */
export const WAIT_MAX_MS = 15_000;

/** Debian's faketime package puts it here (apt-get install faketime; .ci/run does). */
export const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/**
 * The environment that sets one node process's wall clock `offsetMs` off this machine's (Bun reads it through
 * libc); its monotonic clock, which its timers use, stays real.
 */
export function clockOffsetEnv(offsetMs: number): Record<string, string> {
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME: `${offsetMs < 0 ? "-" : "+"}${Math.abs(offsetMs) / 1000}`, DONT_FAKE_MONOTONIC: "1" };
}

/**
 * Like clockOffsetEnv, but the offset (libfaketime's form: "+10", "-0.5") is read from `offsetFile`, at most a
 * second stale, so a test can step the clock of a running node, as NTP or an operator would.
 */
export function steppableClockEnv(offsetFile: string): Record<string, string> {
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: offsetFile, FAKETIME_CACHE_DURATION: "1", DONT_FAKE_MONOTONIC: "1" };
}

export function postGossip(url: string, message: unknown): Promise<Response> {
  return fetchNode(`${url}/gossip`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(message) });
}

export async function expectRefused(response: Response, code: string): Promise<void> {
  expect(response.status).toBe(400);
  expect(((await response.json()) as { code?: string }).code).toBe(code);
}

export function ack2(from: string, entries: readonly { nodeUrl: string; generation: number; heartbeat: number }[]) {
  return { type: "ack2", from, entries: entries.map((e) => ({ ...e, leaving: false })) };
}

/**
 * Reads every node's view until WATCH_DEAD_PERIODS dead-after periods have passed, and checks each reading:
 * every node lists exactly `urls`, all active, in one identical ring. A member cut out, or one injected, shows.
 */
export async function expectStaysConverged(urls: readonly string[], timing: ClusterTiming, check: () => Promise<void> = async () => undefined): Promise<number> {
  await waitForAgreement(urls, urls, WAIT_MAX_MS);
  const started = performance.now();
  let readings = 0;
  while (performance.now() - started < WATCH_DEAD_PERIODS * timing.deadAfterMs) {
    const views = await readViews(urls);
    for (const state of views.states) {
      expect(state.peers).toEqual([...urls].sort());
      expect(state.members.map((m) => `${m.url} ${m.state}`)).toEqual([...urls].sort().map((url) => `${url} active`));
    }
    for (const ring of views.rings) expect(ring.shape).toBe(views.rings[0]!.shape);
    await check();
    readings++;
    await Bun.sleep(timing.intervalMs / 2);
  }
  return readings;
}
