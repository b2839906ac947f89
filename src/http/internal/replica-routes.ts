// Replica endpoints: versioned records between replicas, and the two steps of anti-entropy. Behind CLUSTER_SECRET.
import { Type } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import { GROUPS, GROUPS_PER_REQUEST_MAX, SEGMENTS_PER_GROUP, SEGMENTS_PER_ROUND_MAX } from "../../node/anti-entropy.ts";
import { SEGMENT_COUNT } from "../../store/segments.ts";
import { NodeError } from "../../node/errors.ts";
import { rangeListSchema, rangesFromWire } from "../../node/range-wire.ts";
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
const digest = Type.Integer({ minimum: 0, maximum: 0xffffffff });
const groupList = (maxItems: number) => t.Array(Type.Integer({ minimum: 0, maximum: GROUPS - 1 }), { maxItems });
const segmentList = (maxItems: number) => t.Array(Type.Integer({ minimum: 0, maximum: SEGMENT_COUNT - 1 }), { maxItems });
const errors = { 400: errorModel, 401: errorModel, 413: errorModel, 503: errorModel };
const detail = (summary: string) => ({ tags: ["internal"], summary });

/**
 * Replica bodies carry record batches of up to a few MiB of keys and values; JSON escaping may
 * multiply that, so the limit sits well above it.
 */
export const REPLICA_BODY_BYTES_MAX = 64 * 1024 * 1024;
/**
 * Anti-entropy requests carry the ranges compared (up to RANGES_PER_REQUEST_MAX of ~45 bytes), and at
 * most GROUPS_PER_REQUEST_MAX × 256 digests of up to 10 digits or a list of up to 1,024 segments.
 */
const ANTI_ENTROPY_BODY_BYTES_MAX = 512 * 1024;

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
    .post("/digests", async ({ body }) => ({ groups: await replicas.differingGroups(rangesFromWire(body.ranges), body.groups) }), {
      parse: [checkSecret, ...cappedJson(ANTI_ENTROPY_BODY_BYTES_MAX)],
      body: t.Object({ from: peer, ranges: rangeListSchema, groups: t.Array(digest, { minItems: GROUPS, maxItems: GROUPS }) }),
      response: { 200: t.Object({ groups: groupList(GROUPS) }), ...errors },
      detail: detail("Anti-entropy: which groups of the digest tree of shared keys differ"),
    })
    .post(
      "/segment-digests",
      async ({ body }) => {
        if (body.digests.length !== body.groups.length * SEGMENTS_PER_GROUP) {
          throw new NodeError("bad_request", `digests must hold ${SEGMENTS_PER_GROUP} numbers per group`);
        }
        return { segments: await replicas.differingSegments(rangesFromWire(body.ranges), body.groups, body.digests) };
      },
      {
        parse: [checkSecret, ...cappedJson(ANTI_ENTROPY_BODY_BYTES_MAX)],
        body: t.Object({
          from: peer,
          ranges: rangeListSchema,
          groups: groupList(GROUPS_PER_REQUEST_MAX),
          digests: t.Array(digest, { maxItems: GROUPS_PER_REQUEST_MAX * SEGMENTS_PER_GROUP }),
        }),
        response: { 200: t.Object({ segments: segmentList(GROUPS_PER_REQUEST_MAX * SEGMENTS_PER_GROUP) }), ...errors },
        detail: detail("Anti-entropy: which segments of the given groups differ"),
      },
    )
    .post(
      "/segment-records",
      async ({ body }) => {
        const page = await replicas.segmentRecords(rangesFromWire(body.ranges), body.segments, body.after ?? undefined);
        return { records: page.records.map(toWire), next: page.next ?? null };
      },
      {
        parse: [checkSecret, ...cappedJson(ANTI_ENTROPY_BODY_BYTES_MAX)],
        body: t.Object({ from: peer, ranges: rangeListSchema, segments: segmentList(SEGMENTS_PER_ROUND_MAX), after: t.Union([t.String(), t.Null()]) }),
        detail: detail("Anti-entropy: this replica's shared records in the given segments, a page at a time"),
      },
    );
}
