// What the node table says of a member, from its gossip state and the page's own health probe.
import { describe, expect, test } from "bun:test";
import { ClientError } from "../../src/client/node-client.ts";
import type { Health } from "../../src/dashboard/api-types.ts";
import { nodeStatus, type NodeStatus, type Result } from "../../src/dashboard/cluster-snapshot.ts";

const URL_ = "http://127.0.0.1:7002";
const health = (status: "healthy" | "unhealthy"): Result<Health> => ({
  ok: true,
  value: { nodeUrl: URL_, service: "limedb-node", status, storage: { type: "memory", keys: 0 }, replication: { factor: 3, hintBacklog: 0, rebalancing: false }, timestamp: "", version: "0" },
});
const failed = (kind: ClientError["kind"], status?: number): Result<Health> => ({ ok: false, error: new ClientError(kind, `probe of ${URL_} failed`, status) });

describe("a member's status", () => {
  test.each<[string, "active" | "stale" | "dead", Result<Health> | undefined, NodeStatus]>([
    ["active and answering healthy", "active", health("healthy"), "healthy"],
    ["active, its store unusable", "active", health("unhealthy"), "unhealthy"],
    ["active, health answering 500", "active", failed("unavailable", 500), "unhealthy"],
    ["active, health answering something not LimeDB's", "active", failed("bad_answer", 200), "unhealthy"],
    ["active but not reachable from the browser", "active", failed("unreachable"), "unreachable"],
    ["active, its health check timing out", "active", failed("timeout"), "unreachable"],
    ["suspected by gossip but answering", "stale", health("healthy"), "suspect"],
    ["suspected by gossip and not answering", "stale", failed("unreachable"), "down"],
    ["dead to gossip", "dead", health("healthy"), "down"],
    ["dead to gossip, never probed", "dead", undefined, "down"],
    ["active, not probed yet", "active", undefined, "unreachable"],
  ])("%s is %p", (_, state, probe, status) => {
    expect(nodeStatus({ state }, probe)).toBe(status);
  });
});
