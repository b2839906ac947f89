// Replica endpoints: versioned records between replicas, and the two steps of anti-entropy. Behind CLUSTER_SECRET.
import { Type } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import { BUCKETS } from "../../node/anti-entropy.ts";
import { fromWire, recordBatchSchema, toWire, wireRecordSchema } from "../../node/record-wire.ts";
import type { ReplicaService } from "../../node/replica-service.ts";
import { nodeUrlSchema } from "../../membership/schema.ts";
import { cappedJson } from "../body.ts";
import { keyParams } from "../kv/model.ts";
import { errorModel } from "../model.ts";
import { internalGuard } from "./guard.ts";

/** The asking replica: a member URL by the same rule gossip applies. */
const peer = nodeUrlSchema;
// TypeBox's own Integer: Elysia's t.Integer also takes a string of digits, which no peer sends.
const bucketList = t.Array(Type.Integer({ minimum: 0, maximum: BUCKETS - 1 }), { maxItems: BUCKETS });
const errors = { 400: errorModel, 401: errorModel, 413: errorModel, 503: errorModel };
const detail = (summary: string) => ({ tags: ["internal"], summary });

/**
 * Replica bodies carry record batches of up to a few MiB of keys and values; JSON escaping may
 * multiply that, so the limit sits well above it.
 */
export const REPLICA_BODY_BYTES_MAX = 64 * 1024 * 1024;
/** Digest and bucket requests carry at most a few hundred numbers. */
const ANTI_ENTROPY_BODY_BYTES_MAX = 64 * 1024;

export function replicaRoutes(replicas: ReplicaService, secret: string) {
  const checkSecret = internalGuard(secret);
  return new Elysia({ name: "replica", prefix: "/api/v1/replica" })
    .onTransform(checkSecret)
    .post(
      "/put",
      async ({ body }) => ({ outcomes: await replicas.put(body.records.map(fromWire)) }),
      {
        parse: [checkSecret, ...cappedJson(REPLICA_BODY_BYTES_MAX)],
        body: recordBatchSchema,
        response: { 200: t.Object({ outcomes: t.Array(t.Object({ applied: t.Boolean(), replacedLive: t.Boolean() })) }), ...errors },
        detail: detail("Apply versioned records on this replica (last write wins)"),
      },
    )
    .get(
      "/get/:key",
      async ({ params }) => {
        const record = await replicas.get(params.key);
        return { record: record === undefined ? null : toWire(record) };
      },
      { params: keyParams, response: { 200: t.Object({ record: t.Union([wireRecordSchema, t.Null()]) }), ...errors }, detail: detail("This replica's record of a key, tombstones included") },
    )
    .post("/digests", async ({ body }) => ({ buckets: await replicas.differingBuckets(body.from, body.digests) }), {
      parse: [checkSecret, ...cappedJson(ANTI_ENTROPY_BODY_BYTES_MAX)],
      body: t.Object({ from: peer, digests: t.Array(Type.Integer({ minimum: 0, maximum: 0xffffffff }), { maxItems: BUCKETS }) }),
      response: { 200: t.Object({ buckets: bucketList }), ...errors },
      detail: detail("Anti-entropy: which buckets of shared keys differ"),
    })
    .post(
      "/bucket-records",
      async ({ body }) => {
        const page = await replicas.bucketRecords(body.from, body.buckets, body.after ?? undefined);
        return { records: page.records.map(toWire), next: page.next ?? null };
      },
      {
        parse: [checkSecret, ...cappedJson(ANTI_ENTROPY_BODY_BYTES_MAX)],
        body: t.Object({ from: peer, buckets: bucketList, after: t.Union([t.String(), t.Null()]) }),
        detail: detail("Anti-entropy: this replica's shared records in the given buckets, a page at a time"),
      },
    );
}
