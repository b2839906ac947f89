// The health route: 200 while the store serves, 503 when it does not.
import { Elysia, t } from "elysia";
import type { LimeNode } from "../../node/node.ts";
import { healthView } from "../../node/views.ts";

const healthResponse = t.Object({
  nodeUrl: t.String(),
  service: t.Literal("limedb-node"),
  status: t.String({ description: "healthy or unhealthy" }),
  storage: t.Object({ type: t.String(), keys: t.Integer(), error: t.Optional(t.String()) }),
  timestamp: t.String({ description: "ISO 8601" }),
  version: t.String(),
});

export function healthRoutes(node: LimeNode, version: string) {
  return new Elysia({ name: "health", prefix: "/api/v1" }).get(
    "/health",
    async ({ set }) => {
      const { healthy, body } = await healthView(node, version);
      set.status = healthy ? 200 : 503;
      return body;
    },
    { response: { 200: healthResponse, 503: healthResponse }, detail: { tags: ["health"], summary: "Whether this node and its store can serve" } },
  );
}
