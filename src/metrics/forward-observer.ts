// Counts every call this node makes to a peer, and why it failed, into NodeMetrics.
import { timedOut } from "../node/peer-client.ts";
import type { NodeMetrics } from "./node-metrics.ts";

/**
 * Why a call to a peer failed, or undefined when the peer answered as it should. A 4xx other than
 * 401 is the peer judging the request (a not-found, a bad key) and is passed on as an answer, so
 * only a refused secret and the peer's own failures count.
 */
export function forwardFailure(outcome: { response: Response } | { error: unknown }): string | undefined {
  if ("error" in outcome) return timedOut(outcome.error) ? "timeout" : "unreachable";
  const status = outcome.response.status;
  return status >= 500 || status === 401 ? String(status) : undefined;
}

/** A peer observer (see node/peer-client.ts) that records each call's route, time to answer and failure. */
export function countForwards(metrics: NodeMetrics, nowMs: () => number) {
  return async (call: { readonly route: string }, _headers: Record<string, string>, send: () => Promise<Response>): Promise<Response> => {
    const started = nowMs();
    try {
      const response = await send();
      metrics.recordForward(call.route, nowMs() - started, forwardFailure({ response }));
      return response;
    } catch (error) {
      metrics.recordForward(call.route, nowMs() - started, forwardFailure({ error }));
      throw error;
    }
  };
}
