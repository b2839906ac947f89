// Admin endpoints: a graceful leave and the removal of a dead member, guarded by CLUSTER_SECRET like the internal ones.
import { Elysia, t } from "elysia";
import type { RemovalRefusal } from "../../membership/member-table.ts";
import { nodeUrlSchema } from "../../membership/schema.ts";
import type { LimeNode } from "../../node/node.ts";
import { errorModel } from "../model.ts";
import { internalGuard } from "../internal/guard.ts";

/** What a refused removal answers: its status, code and sentence. */
const REFUSALS: Record<RemovalRefusal, { status: 404 | 409; code: string; error: (url: string) => string }> = {
  unknown: { status: 404, code: "not_found", error: (url) => `${url} is not a member known to this node` },
  self: { status: 409, code: "conflict", error: (url) => `${url} is this node; to take it out of the cluster, ask it to leave (POST /api/v1/admin/leave)` },
  alive: {
    status: 409,
    code: "conflict",
    error: (url) => `${url} is not held dead by this node (it answers gossip); stop it first, or ask it to leave (POST /api/v1/admin/leave)`,
  },
  removed: { status: 409, code: "conflict", error: (url) => `${url} was removed already` },
  minority: {
    status: 409,
    code: "conflict",
    error: (url) =>
      `this node does not see a majority of its cluster, so ${url} may only be cut off from it; ask a node on the majority side, or, if you know ${url} is gone for good, remove it with force`,
  },
};

export function adminRoutes(node: LimeNode, leave: () => void, secret: string) {
  return new Elysia({ name: "admin", prefix: "/api/v1/admin" })
    .onTransform(internalGuard(secret))
    .post(
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
    )
    .post(
      "/remove",
      ({ body, set }) => {
        const outcome = node.members.remove(body.nodeUrl, body.force === true);
        if (outcome.ok) return { status: "removed" as const, nodeUrl: body.nodeUrl };
        const refusal = REFUSALS[outcome.refused];
        set.status = refusal.status;
        return { error: refusal.error(body.nodeUrl), code: refusal.code };
      },
      {
        body: t.Object({
          nodeUrl: nodeUrlSchema,
          force: t.Optional(t.Boolean({ description: "Remove even without a majority in sight: the operator's word that the member is gone for good" })),
        }),
        response: { 200: t.Object({ status: t.Literal("removed"), nodeUrl: t.String() }), 401: errorModel, 404: errorModel, 409: errorModel },
        detail: {
          tags: ["admin"],
          summary:
            "Remove a member held dead from the cluster: it leaves every ring as gossip spreads the removal, and its ranges get new replicas. A dead member keeps its ranges until then.",
        },
      },
    );
}
