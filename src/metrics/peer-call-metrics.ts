// Counts every call this node makes to a peer, and why it failed, into NodeMetrics.
import { peerFailure, type PeerCall, type PeerObserver } from "../node/peer-transport.ts";
import type { NodeMetrics } from "./node-metrics.ts";

/** A peer observer (see node/peer-transport.ts) that records each call's operation, time to answer and failure. */
export function countPeerCalls(metrics: NodeMetrics, nowMs: () => number): PeerObserver {
  // Plain promise callbacks rather than an async function: every call to a peer passes through here.
  return <T>(call: PeerCall, _carrier: Record<string, string>, send: () => Promise<T>): Promise<T> => {
    const started = nowMs();
    return send().then(
      (value) => {
        metrics.recordPeerCall(call.op, nowMs() - started, peerFailure({ value }));
        return value;
      },
      (error: unknown) => {
        metrics.recordPeerCall(call.op, nowMs() - started, peerFailure({ error }));
        throw error;
      },
    );
  };
}
