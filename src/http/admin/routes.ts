// Admin endpoints: a graceful leave and the removal of a dead member, guarded by CLUSTER_SECRET like the internal ones.
import { Elysia, t } from "elysia";
import type { RemovalRefusal } from "../../membership/member-table.ts";
import { nodeUrlSchema } from "../../membership/schema.ts";
import type { LimeNode } from "../../node/node.ts";
import { errorModel } from "../model.ts";
import { internalGuard } from "../internal/guard.ts";
import { cappedJson } from "../body.ts";
import { msetBodyBytesMax } from "../kv/routes.ts";
import { BATCH_KEYS_MAX, restoreRecords, type Report } from "../../node/batch.ts";
import { versionSchema } from "../../node/record-wire.ts";

/** A restore body's records carry versions and expiries beside an mset's keys and values. */
const RECORD_OVERHEAD_BYTES = 256;
/** The largest body a removal takes, in bytes: a member URL (NODE_URL_CHARS_MAX characters) and a flag, with room. */
export const REMOVE_BODY_BYTES_MAX = 16 * 1024;

export const restoreBody = t.Object({
  records: t.Array(
    t.Object({ key: t.String(), value: t.String(), version: versionSchema, expiresAtMs: t.Union([t.Integer({ minimum: 0 }), t.Null()]) }, { additionalProperties: true }),
    { minItems: 1, maxItems: BATCH_KEYS_MAX, description: `Records of a backup (limedb backup), at most ${BATCH_KEYS_MAX}` },
  ),
});

export const restoreResponse = t.Object({
  results: t.Array(
    t.Union([
      t.Object({ key: t.String(), outcome: t.Union([t.Literal("restored"), t.Literal("kept")]) }),
      t.Object({ key: t.String(), code: t.String(), error: t.String() }),
    ]),
  ),
  restored: t.Integer(),
  kept: t.Integer({ description: "Records whose replicas already held that version or a newer one (a later write or delete): left as they are" }),
  failed: t.Integer(),
});

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

export function adminRoutes(node: LimeNode, leave: () => void, secret: string, report: (error: unknown, request: Request) => void = () => undefined) {
  const checkSecret = internalGuard(secret);
  return new Elysia({ name: "admin", prefix: "/api/v1/admin" })
    .onTransform(checkSecret)
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
      "/restore",
      async ({ body, request }) => {
        const records = body.records.map((record) => ({ key: record.key, value: record.value, version: record.version, tombstone: false, expiresAtMs: record.expiresAtMs ?? undefined }));
        const results = await restoreRecords(node, records, ((error) => report(error, request)) satisfies Report);
        const count = (outcome: string) => results.filter((result) => "outcome" in result && result.outcome === outcome).length;
        const restored = count("restored");
        const kept = count("kept");
        return { results, restored, kept, failed: results.length - restored - kept };
      },
      {
        // The secret first: a caller without it gets 401 before one byte of its body is read.
        parse: [checkSecret, ...cappedJson(msetBodyBytesMax(node.valueBytesMax) + BATCH_KEYS_MAX * RECORD_OVERHEAD_BYTES)],
        body: restoreBody,
        response: { 200: restoreResponse, 400: errorModel, 401: errorModel, 413: errorModel, 503: errorModel },
        detail: { tags: ["admin"], summary: "Write records of a backup under their own versions through the cluster; a newer version already there is kept" },
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
        parse: [checkSecret, ...cappedJson(REMOVE_BODY_BYTES_MAX)],
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
