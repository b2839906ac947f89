// Counts every call this node makes to a peer, and why it failed, into NodeMetrics.
import { peerFailure, type PeerCallListener } from "../node/peer-transport.ts";
import type { NodeMetrics } from "./node-metrics.ts";

/**
 * A peer call listener (see node/peer-transport.ts) that records each call's operation, time to answer and failure;
 * each item of a merged call counts as a call, with the merged call's time.
 */
export function countPeerCalls(metrics: NodeMetrics, nowMs: () => number): PeerCallListener {
  return (call) => {
    const started = nowMs();
    return (outcome) => {
      metrics.recordPeerCall(call.op, nowMs() - started, peerFailure(outcome), call.items);
      // Items of a merged call that failed on their own: counted as the calls of them alone would be.
      if ("value" in outcome) for (const error of outcome.itemErrors ?? []) {
        const reason = peerFailure({ error });
        if (reason !== undefined) metrics.peerCallFailures.inc({ op: call.op, reason });
      }
    };
  };
}
