// The answering side of the peer protocol: one handler per operation over the replica service and gossip,
// each body checked against its schema first. The bus calls it; the internal HTTP routes call the same
// ReplicaService and gossip methods.
import type { GossipHandler } from "../membership/messages.ts";
import type { ItemResult } from "./call-merger.ts";
import { NodeError } from "./errors.ts";
import { ERROR_MESSAGE_CHARS_MAX } from "./peer-answer-limits.ts";
import { ANSWER_FULL_CODE, bodyProblem, MERGED_ANSWER_CHARS_MAX, peerOpOf, type PeerAnswer, type PeerInbound, type PeerOp } from "./peer-wire.ts";
import { rangesFromWire } from "./range-wire.ts";
import { fromWire, toWire } from "./record-wire.ts";
import type { ReplicaService } from "./replica-service.ts";
import { SEGMENTS_PER_GROUP } from "./anti-entropy.ts";

export interface PeerServiceDeps {
  readonly replicas: ReplicaService;
  readonly gossip: GossipHandler;
  /** Wall ms, for the time a refusal of a record as from the future carries; left out, Date.now. */
  readonly clock?: () => number;
  /** Told of a record's failure that is no NodeError (a defect): its reply says only "internal". */
  readonly onUnexpected?: (error: unknown) => void;
  /** Told how each item of a merged call came out ("ok" or its refusal's code), as the call of it alone (`op`) would be counted. */
  readonly onItem?: (op: "put" | "version" | "get", outcome: string) => void;
}

type Handlers = { [Op in PeerOp]: (body: PeerInbound<Op>) => Promise<PeerAnswer<Op>> | PeerAnswer<Op> };

export class PeerService {
  private readonly handlers: Handlers;

  constructor(deps: PeerServiceDeps) {
    const { replicas, gossip } = deps;
    const clock = deps.clock ?? Date.now;
    /** One item of a merged call as its answer: the value, or the refusal a call of it alone would have answered; counted as that call. */
    const answerOf = <R, A>(op: "put" | "version" | "get", result: ItemResult<R>, answer: (value: R) => A): A | ReturnType<typeof errorReply> => {
      if (result.ok) {
        deps.onItem?.(op, "ok");
        return answer(result.value);
      }
      const reply = errorReply(result.error, clock());
      if (!(result.error instanceof NodeError)) deps.onUnexpected?.(result.error);
      deps.onItem?.(op, reply.code);
      return reply;
    };
    this.handlers = {
      ping: () => null,
      gossip: (body) => {
        const outcome = body.type === "syn" ? gossip.answerSyn(body) : gossip.acceptAck2(body);
        if (!outcome.ok) throw new NodeError("clock_skew", `gossip carries a ${outcome.refused.kind} beyond this node's clock + MAX_CLOCK_SKEW_MS`);
        return outcome.answer as PeerAnswer<"gossip">;
      },
      put: async (body) => ({ outcomes: await replicas.put(body.records.map(fromWire)) }),
      putEach: async (body) => ({ results: (await replicas.putEach(body.records.map(fromWire))).map((result) => answerOf("put", result, (outcome) => outcome)) }),
      versionEach: async (body) => ({ results: (await replicas.versionEach(body.keys)).map((result) => answerOf("version", result, (version) => version ?? null)) }),
      getEach: async (body) => {
        // Records whole up to the answer's budget (the first always); past it an item says to ask for it alone.
        let chars = 0;
        const results = (await replicas.getEach(body.keys)).map((result, i) => {
          if (result.ok && result.value !== undefined) {
            const size = result.value.key.length + result.value.value.length;
            if (i > 0 && chars + size > MERGED_ANSWER_CHARS_MAX) return { code: ANSWER_FULL_CODE, error: "no room in this answer; ask for it alone" };
            chars += size;
          }
          return answerOf("get", result, (record) => (record === undefined ? null : toWire(record)));
        });
        return { results };
      },
      get: async (body) => {
        const record = await replicas.get(body.key);
        return { record: record === undefined ? null : toWire(record) };
      },
      version: async (body) => ({ version: (await replicas.get(body.key))?.version ?? null }),
      digests: async (body) => ({ groups: await replicas.differingGroups(rangesFromWire(body.ranges), body.groups) }),
      segmentDigests: async (body) => {
        if (body.digests.length !== body.groups.length * SEGMENTS_PER_GROUP) throw new NodeError("bad_request", `digests must hold ${SEGMENTS_PER_GROUP} numbers per group`);
        return { segments: await replicas.differingSegments(rangesFromWire(body.ranges), body.groups, body.digests) };
      },
      segmentRecords: async (body) => {
        const page = await replicas.segmentRecords(rangesFromWire(body.ranges), body.segments, body.after ?? undefined);
        return { records: page.records.map(toWire), next: page.next ?? null };
      },
    };
  }

  /** Runs operation `code` on a JSON body; throws NodeError for an unknown operation or a body that breaks its schema. */
  async handle(code: number, text: string): Promise<string> {
    const op = peerOpOf(code);
    if (op === undefined) throw new NodeError("bad_request", `operation ${code} is unknown`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new NodeError("bad_request", "the body is not valid JSON");
    }
    const problem = bodyProblem(op, body);
    if (problem !== undefined) throw new NodeError("bad_request", problem);
    const handler = this.handlers[op] as (body: unknown) => Promise<unknown> | unknown;
    return JSON.stringify(await handler(body));
  }
}

/** A failure as a reply: the node's code and message; a clock refusal carries this node's wall time. */
function errorReply(error: unknown, nowMs: number): { code: string; error: string; nowMs?: number } {
  if (error instanceof NodeError) return { code: error.code, error: error.message.slice(0, ERROR_MESSAGE_CHARS_MAX), ...(error.code === "clock_skew" ? { nowMs } : {}) };
  return { code: "internal", error: "the node failed to handle this call; it has been logged" };
}

/** A failure as a reply body (see errorReply). */
export function errorReplyBody(error: unknown, nowMs: number): string {
  return JSON.stringify(errorReply(error, nowMs));
}
