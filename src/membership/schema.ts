// TypeBox schemas of the gossip messages: checked where they arrive (the HTTP edge) and where ACKs return.
import { Type, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { MEMBERS_MAX } from "./member-table.ts";

/** Node URLs longer than this are refused: a real origin is far shorter. */
export const NODE_URL_CHARS_MAX = 512;

const nodeUrl = Type.String({ minLength: 8, maxLength: NODE_URL_CHARS_MAX, pattern: "^https?://[^/?#\\s]+$" });
const counter = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const digest = Type.Object({ nodeUrl, generation: counter, heartbeat: counter });
const entry = Type.Object({ nodeUrl, generation: counter, heartbeat: counter, leaving: Type.Boolean() });

export const synSchema = Type.Object({ type: Type.Literal("syn"), from: nodeUrl, digests: Type.Array(digest, { maxItems: MEMBERS_MAX }) });
export const ackSchema = Type.Object({
  type: Type.Literal("ack"),
  from: nodeUrl,
  entries: Type.Array(entry, { maxItems: MEMBERS_MAX }),
  requests: Type.Array(nodeUrl, { maxItems: MEMBERS_MAX }),
});
export const ack2Schema = Type.Object({ type: Type.Literal("ack2"), from: nodeUrl, entries: Type.Array(entry, { maxItems: MEMBERS_MAX }) });
/** What POST /gossip accepts: an ACK only ever travels as the answer to a SYN. */
export const inboundGossipSchema = Type.Union([synSchema, ack2Schema]);

export type InboundGossip = Static<typeof inboundGossipSchema>;

const ackCheck = TypeCompiler.Compile(ackSchema);

export function isAck(value: unknown): value is Static<typeof ackSchema> {
  return ackCheck.Check(value);
}
