// The cluster routes: membership, the ring and gossip status of this node.
import { Elysia } from "elysia";
import type { LimeNode } from "../../node/node.ts";
import type { BackgroundStatus } from "../../node/background.ts";
import { clusterState, gossipView, ringView } from "../../node/views.ts";
import { exactJsonResponse } from "../exact-json.ts";
import { gossipResponse, ringResponse, stateResponse } from "./model.ts";

export function clusterRoutes(node: LimeNode, clock: () => number, status: () => BackgroundStatus) {
  return new Elysia({ name: "cluster", prefix: "/api/v1/cluster" })
    .get("/state", () => clusterState(node, status()), { response: { 200: stateResponse }, detail: { tags: ["cluster"], summary: "Members of the cluster" } })
    .get("/ring", () => exactJsonResponse(ringView(node)), {
      // Returned as a Response so that 64-bit hashes keep every digit; the schema still documents it.
      response: { 200: ringResponse },
      detail: { tags: ["cluster"], summary: "The hash ring: points, ranges and each node's share" },
    })
    .get("/gossip", () => gossipView(node, clock()), { response: { 200: gossipResponse }, detail: { tags: ["cluster"], summary: "Gossip status of this node" } });
}
