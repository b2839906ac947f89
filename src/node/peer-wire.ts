// What nodes say to each other, whatever carries it: the operations, their bodies' schemas (checked where they
// arrive, on the bus and on the internal HTTP routes alike) and the answers' schemas (checked where they return).
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { GROUPS, GROUPS_PER_REQUEST_MAX, SEGMENTS_PER_GROUP, SEGMENTS_PER_ROUND_MAX } from "./anti-entropy.ts";
import { SEGMENT_COUNT } from "../store/segments.ts";
import { ackSchema, inboundGossipSchema, nodeUrlSchema } from "../membership/schema.ts";
import { KEY_BYTES_MAX } from "../store/limits.ts";
import { ERROR_CODE_CHARS_MAX, ERROR_MESSAGE_CHARS_MAX } from "./peer-answer-limits.ts";
export { MERGED_ANSWER_CHARS_MAX } from "./peer-answer-limits.ts";
import { rangeListSchema } from "./range-wire.ts";
import { compactRecordSchema, KEYS_PER_REQUEST_MAX, outcomeBatchSchema, outcomeSchema, recordBatchSchema, RECORDS_PER_REQUEST_MAX, replicaReadSchema, versionSchema, wireRecordSchema } from "./record-wire.ts";

/** The operations of the peer protocol, with the number each travels as on the bus. */
export const PEER_OPS = { ping: 1, gossip: 2, put: 3, get: 4, version: 5, digests: 6, segmentDigests: 7, segmentRecords: 8, putEach: 9, versionEach: 10, getEach: 11 } as const;
export type PeerOp = keyof typeof PEER_OPS;
export const PEER_OP_NAMES: readonly PeerOp[] = Object.keys(PEER_OPS) as PeerOp[];

/** An operation by its number, or undefined for one no version of LimeDB speaks. */
export function peerOpOf(code: number): PeerOp | undefined {
  return OPS_BY_CODE[code];
}

/** Each operation at its number's index: a lookup per bus call, not a search. */
const OPS_BY_CODE: readonly (PeerOp | undefined)[] = PEER_OP_NAMES.reduce<(PeerOp | undefined)[]>((byCode, op) => {
  byCode[PEER_OPS[op]] = op;
  return byCode;
}, []);

const peer = nodeUrlSchema;
// TypeBox's own Integer: Elysia's t.Integer also takes a string of digits, which no peer sends.
const digest = Type.Integer({ minimum: 0, maximum: 0xffffffff });
const groupList = (maxItems: number) => Type.Array(Type.Integer({ minimum: 0, maximum: GROUPS - 1 }), { maxItems });
const segmentList = (maxItems: number) => Type.Array(Type.Integer({ minimum: 0, maximum: SEGMENT_COUNT - 1 }), { maxItems });
const key = Type.String({ minLength: 1, maxLength: KEY_BYTES_MAX });
const keyBody = Type.Object({ key });

export const digestsBody = Type.Object({ from: peer, ranges: rangeListSchema, groups: Type.Array(digest, { minItems: GROUPS, maxItems: GROUPS }) });
export const digestsAnswer = Type.Object({ groups: groupList(GROUPS) });
export const segmentDigestsBody = Type.Object({
  from: peer,
  ranges: rangeListSchema,
  groups: groupList(GROUPS_PER_REQUEST_MAX),
  digests: Type.Array(digest, { maxItems: GROUPS_PER_REQUEST_MAX * SEGMENTS_PER_GROUP }),
});
export const segmentDigestsAnswer = Type.Object({ segments: segmentList(GROUPS_PER_REQUEST_MAX * SEGMENTS_PER_GROUP) });
export const segmentRecordsBody = Type.Object({ from: peer, ranges: rangeListSchema, segments: segmentList(SEGMENTS_PER_ROUND_MAX), after: Type.Union([Type.String(), Type.Null()]) });
export const segmentRecordsAnswer = Type.Object({ records: recordBatchSchema.properties.records, next: Type.Union([Type.String(), Type.Null()]) });
export const versionAnswer = Type.Object({ version: Type.Union([versionSchema, Type.Null()]) });
/** A record a put of each refused or failed on its own: the refusal a put of that record alone would have answered. */
export const refusedRecordSchema = Type.Object({
  code: Type.String({ maxLength: ERROR_CODE_CHARS_MAX }),
  error: Type.String({ maxLength: ERROR_MESSAGE_CHARS_MAX }),
  nowMs: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
});
/** One result per record, in order: its outcome, or its refusal. */
export const putEachAnswer = Type.Object({ results: Type.Array(Type.Union([outcomeSchema, refusedRecordSchema]), { maxItems: RECORDS_PER_REQUEST_MAX }) });
export const keysBody = Type.Object({ keys: Type.Array(key, { maxItems: KEYS_PER_REQUEST_MAX }) });
/**
 * A merged read's keys; `compact` asks for records as compactRecordSchema. A node from before it takes the body
 * all the same (extra fields pass its schema) and answers whole records, which the caller reads too.
 */
export const readEachBody = Type.Object({ keys: keysBody.properties.keys, compact: Type.Optional(Type.Boolean()) });
/**
 * The refusal code of a getEach item whose record the answer had no room for (past MERGED_ANSWER_CHARS_MAX): the
 * caller asks for it alone. Never a client's code.
 */
export const ANSWER_FULL_CODE = "answer_full";
/** One result per key, in order: its record (compact when asked for), null for none, or its refusal. */
export const getEachAnswer = Type.Object({ results: Type.Array(Type.Union([compactRecordSchema, wireRecordSchema, Type.Null(), refusedRecordSchema]), { maxItems: KEYS_PER_REQUEST_MAX }) });
/** One result per key, in order: its version, null for none, or its refusal. */
export const versionEachAnswer = Type.Object({ results: Type.Array(Type.Union([versionSchema, Type.Null(), refusedRecordSchema]), { maxItems: KEYS_PER_REQUEST_MAX }) });

/** Each operation's body and answer. */
export const PEER_WIRE = {
  ping: { body: Type.Null(), answer: Type.Null() },
  gossip: { body: inboundGossipSchema, answer: Type.Union([ackSchema, Type.Object({ type: Type.Literal("done") })]) },
  put: { body: recordBatchSchema, answer: outcomeBatchSchema },
  get: { body: keyBody, answer: replicaReadSchema },
  version: { body: keyBody, answer: versionAnswer },
  digests: { body: digestsBody, answer: digestsAnswer },
  segmentDigests: { body: segmentDigestsBody, answer: segmentDigestsAnswer },
  segmentRecords: { body: segmentRecordsBody, answer: segmentRecordsAnswer },
  // Records judged one by one, as so many puts of one record (the bus merges the replica writes of one turn into it).
  putEach: { body: recordBatchSchema, answer: putEachAnswer },
  // Digest reads judged one by one, as so many version calls (the bus merges the digest reads of one turn into it).
  versionEach: { body: keysBody, answer: versionEachAnswer },
  // Whole reads judged one by one, as so many get calls, up to MERGED_ANSWER_CHARS_MAX of records in the answer.
  getEach: { body: readEachBody, answer: getEachAnswer },
} satisfies Record<PeerOp, { body: TSchema; answer: TSchema }>;

/** A body as it arrives, checked against its schema. */
export type PeerInbound<Op extends PeerOp> = Static<(typeof PEER_WIRE)[Op]["body"]>;
/** What a caller passes: the schema's type, with its arrays readonly. */
export type PeerBody<Op extends PeerOp> = DeepReadonly<Static<(typeof PEER_WIRE)[Op]["body"]>>;
type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
export type PeerAnswer<Op extends PeerOp> = Static<(typeof PEER_WIRE)[Op]["answer"]>;

type Check = { Check(value: unknown): boolean; Errors(value: unknown): { First(): { path: string; message: string } | undefined } };
const compiled = (part: "body" | "answer") => Object.fromEntries(PEER_OP_NAMES.map((op) => [op, TypeCompiler.Compile(PEER_WIRE[op][part] as TSchema)])) as unknown as Record<PeerOp, Check>;
const bodyChecks = compiled("body");
const answerChecks = compiled("answer");

/** The first complaint about a body that breaks its operation's schema, or undefined when it fits. */
export function bodyProblem(op: PeerOp, body: unknown): string | undefined {
  const check = bodyChecks[op];
  if (check.Check(body)) return undefined;
  const first = check.Errors(body).First();
  return first === undefined ? "the body does not fit its operation" : `${first.path || "body"}: ${first.message}`;
}

export function isAnswer<Op extends PeerOp>(op: Op, answer: unknown): answer is PeerAnswer<Op> {
  return answerChecks[op].Check(answer);
}

export type { WireRecord } from "./record-wire.ts";
export { wireRecordSchema };
