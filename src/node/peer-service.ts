// The answering side of the peer protocol: one handler per operation over the replica service and gossip,
// each body checked against its schema first. The bus calls it; the internal HTTP routes call the same
// ReplicaService and gossip methods.
import type { GossipHandler } from "../membership/messages.ts";
import type { ItemResult } from "./call-merger.ts";
import { NodeError } from "./errors.ts";
import { ERROR_MESSAGE_CHARS_MAX } from "./peer-answer-limits.ts";
import { ANSWER_FULL_CODE, bodyProblem, MERGED_ANSWER_CHARS_MAX, peerOpOf, type PeerAnswer, type PeerInbound, type PeerOp } from "./peer-wire.ts";
import { rangesFromWire } from "./range-wire.ts";
import { fromWire, toCompact, toWire } from "./record-wire.ts";
import type { ReplicaService } from "./replica-service.ts";
import { SEGMENTS_PER_GROUP } from "./anti-entropy.ts";

export interface PeerServiceDeps {
  readonly replicas: ReplicaService;
  readonly gossip: GossipHandler;
  /** Wall ms, for the time a refusal of a record as from the future carries; left out, Date.now. */
  readonly clock?: () => number;
  /** Told of a record's failure that is no NodeError (a defect): its reply says only "internal". */
  readonly onUnexpected?: (error: unknown) => void;
  /**
   * Told how the items of a merged call came out ("ok" or a refusal's code), as the calls of each alone (`op`) would
   * be counted: `count` items at once (the ok ones of a call together).
   */
  readonly onItems?: (op: "put" | "version" | "get", outcome: string, count: number) => void;
}

type Handlers = { [Op in PeerOp]: (body: PeerInbound<Op>) => Promise<PeerAnswer<Op>> | PeerAnswer<Op> };

export class PeerService {
  private readonly handlers: Handlers;

  constructor(deps: PeerServiceDeps) {
    const { replicas, gossip } = deps;
    const clock = deps.clock ?? Date.now;
    /**
     * A merged call's items as its answers: each value, or the refusal a call of it alone would have answered, each
     * counted as that call. `answer` may return `unanswered` for an item the answer holds no room for: not counted.
     */
    const answersOf = <R, A>(op: "put" | "version" | "get", results: readonly ItemResult<R>[], answer: (value: R, i: number) => A | typeof unanswered) => {
      let ok = 0;
      const answers = results.map((result, i) => {
        if (!result.ok) {
          const reply = errorReply(result.error, clock());
          if (!(result.error instanceof NodeError)) deps.onUnexpected?.(result.error);
          deps.onItems?.(op, reply.code, 1);
          return reply;
        }
        const answered = answer(result.value, i);
        if (answered === unanswered) return { code: ANSWER_FULL_CODE, error: "no room in this answer; ask for it alone" };
        ok++;
        return answered;
      });
      if (ok > 0) deps.onItems?.(op, "ok", ok);
      return answers;
    };
    this.handlers = {
      ping: () => null,
      gossip: (body) => {
        const outcome = body.type === "syn" ? gossip.answerSyn(body) : gossip.acceptAck2(body);
        if (!outcome.ok) throw new NodeError("clock_skew", `gossip carries a ${outcome.refused.kind} beyond this node's clock + MAX_CLOCK_SKEW_MS`);
        return outcome.answer as PeerAnswer<"gossip">;
      },
      put: async (body) => ({ outcomes: await replicas.put(body.records.map(fromWire)) }),
      putEach: async (body) => ({ results: answersOf("put", await replicas.putEach(body.records.map(fromWire)), (outcome) => outcome) }),
      versionEach: async (body) => ({ results: answersOf("version", await replicas.versionEach(body.keys), (version) => version ?? null) }),
      getEach: async (body) => {
        // Records whole up to the answer's budget (the first always); past it an item says to ask for it alone.
        let chars = 0;
        const form = body.compact === true ? toCompact : toWire;
        const results = answersOf("get", await replicas.getEach(body.keys), (record, i) => {
          if (record === undefined) return null;
          const size = record.key.length + record.value.length;
          if (i > 0 && chars + size > MERGED_ANSWER_CHARS_MAX) return unanswered;
          chars += size;
          return form(record);
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

/** What an item's answer is when the merged answer holds no room for it: it is asked for alone. */
const unanswered = Symbol("unanswered");

/** A failure as a reply: the node's code and message; a clock refusal carries this node's wall time. */
function errorReply(error: unknown, nowMs: number): { code: string; error: string; nowMs?: number } {
  if (error instanceof NodeError) return { code: error.code, error: error.message.slice(0, ERROR_MESSAGE_CHARS_MAX), ...(error.code === "clock_skew" ? { nowMs } : {}) };
  return { code: "internal", error: "the node failed to handle this call; it has been logged" };
}

/** A failure as a reply body (see errorReply). */
export function errorReplyBody(error: unknown, nowMs: number): string {
  return JSON.stringify(errorReply(error, nowMs));
}
