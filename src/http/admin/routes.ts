// Admin endpoints: a graceful leave, guarded by CLUSTER_SECRET like the internal ones.
import { Elysia, t } from "elysia";
import type { LimeNode } from "../../node/node.ts";
import { errorModel } from "../model.ts";
import { internalGuard } from "../internal/guard.ts";

export function adminRoutes(node: LimeNode, leave: () => void, secret: string) {
  return new Elysia({ name: "admin", prefix: "/api/v1/admin" }).onTransform(internalGuard(secret)).post(
    "/leave",
    ({ set }) => {
      // The hand-off runs after this answer: the node marks itself leaving, streams its data out, then exits.
      leave();
      set.status = 202;
      return { status: "leaving" as const, nodeUrl: node.nodeUrl };
    },
    {
      response: { 202: t.Object({ status: t.Literal("leaving"), nodeUrl: t.String() }), 401: errorModel },
      detail: { tags: ["admin"], summary: "Leave the cluster: hand this node's data to the other replicas, then exit" },
    },
  );
}
