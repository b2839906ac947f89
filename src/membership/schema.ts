// TypeBox schemas of the gossip messages: checked where they arrive (the HTTP edge) and where ACKs return.
import { FormatRegistry, Type, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { MEMBERS_MAX } from "./member-table.ts";
import { isNodeUrl, NODE_URL_CHARS_MAX, NODE_URL_PATTERN } from "../net/node-url.ts";

export { NODE_URL_CHARS_MAX };

/** The format name under which TypeBox (and so every Elysia route) checks a member URL with isNodeUrl. */
const NODE_URL_FORMAT = "limedb-node-url";
FormatRegistry.Set(NODE_URL_FORMAT, isNodeUrl);

/**
 * A gossip message names at most MEMBERS_MAX members of a few hundred bytes each; 1 MiB is ample.
 * It bounds both what POST /gossip reads and the ACK a node reads back from its SYN.
 */
export const GOSSIP_BODY_BYTES_MAX = 1024 * 1024;

/**
 * A member URL: the pattern documents the shape (and shows in OpenAPI), the format adds what a pattern
 * cannot say, that the URL is its own origin. One schema for gossip and the replica routes' `peer`.
 */
export const nodeUrlSchema = Type.String({ minLength: 8, maxLength: NODE_URL_CHARS_MAX, pattern: NODE_URL_PATTERN, format: NODE_URL_FORMAT });
const nodeUrl = nodeUrlSchema;
const counter = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** Only a removed member's digest or entry carries `removed` (true); see member.ts. */
const removed = Type.Optional(Type.Boolean());
const digest = Type.Object({ nodeUrl, generation: counter, heartbeat: counter, removed });
const entry = Type.Object({ nodeUrl, generation: counter, heartbeat: counter, leaving: Type.Boolean(), removed });

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
