// The health route: 200 while the store serves, 503 when it does not.
import { Elysia, t } from "elysia";
import type { LimeNode } from "../../node/node.ts";
import type { BackgroundStatus } from "../../node/background.ts";
import { healthView } from "../../node/views.ts";
import { majoritySchema } from "../cluster/model.ts";

const healthResponse = t.Object({
  nodeUrl: t.String(),
  service: t.Literal("limedb-node"),
  status: t.String({ description: "healthy or unhealthy" }),
  storage: t.Object({ type: t.String(), keys: t.Integer(), error: t.Optional(t.String()) }),
  replication: t.Object({
    factor: t.Integer({ description: "REPLICATION_FACTOR" }),
    hintBacklog: t.Integer({ description: "Writes waiting here for replicas that were down" }),
    rebalancing: t.Boolean({ description: "Whether data is being streamed after a ring change" }),
  }),
  // Optional as in HealthBody, which clients share; this node always sends it.
  clock: t.Optional(t.Object(
    {
      status: t.Union([t.Literal("ok"), t.Literal("ahead"), t.Literal("behind")], { description: "ahead or behind when the offset lies beyond MAX_CLOCK_SKEW_MS" }),
      offsetMs: t.Integer({ description: "How far this node's clock runs ahead of the median of its live peers' (negative: behind), from gossip" }),
      peers: t.Integer({ description: "Live peers whose clock estimate counted; 0 means no estimate yet" }),
    },
    { description: "This node's clock against its peers'; informative only, the node serves either way" },
  )),
  // Optional as in HealthBody; this node always sends it.
  cluster: t.Optional(majoritySchema),
  timestamp: t.String({ description: "ISO 8601" }),
  version: t.String(),
});

export function healthRoutes(node: LimeNode, version: string, status: () => BackgroundStatus) {
  return new Elysia({ name: "health", prefix: "/api/v1" }).get(
    "/health",
    async ({ set }) => {
      const { healthy, body } = await healthView(node, version, status());
      set.status = healthy ? 200 : 503;
      return body;
    },
    { response: { 200: healthResponse, 503: healthResponse }, detail: { tags: ["health"], summary: "Whether this node and its store can serve" } },
  );
}
