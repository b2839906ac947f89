// The three gossip messages. SYN: my digests. ACK: entries you lack or hold older, and the ones I want. ACK2: those.
import type { FutureKind } from "../clock/future-bound.ts";
import type { Static } from "@sinclair/typebox";
import type { Digest, Entry } from "./member.ts";
import type { ack2Schema, ackSchema, synSchema } from "./schema.ts";

/** A SYN: my digests. The wire types are the schemas' own (schema.ts), read-only where they are used. */
export type Syn = ReadonlyWire<Static<typeof synSchema>>;
/** An ACK: entries the SYN's sender lacks or holds older, and the members the SYN named with newer news than the receiver has (it wants their entries). */
export type Ack = ReadonlyWire<Static<typeof ackSchema>>;
/** An ACK2: the entries an ACK asked for. */
export type Ack2 = ReadonlyWire<Static<typeof ack2Schema>>;

/** A schema's type with every property and array read-only, as the code that builds and reads messages wants it. */
type ReadonlyWire<T> = T extends (infer U)[] ? readonly ReadonlyWire<U>[] : T extends object ? { readonly [K in keyof T]: ReadonlyWire<T[K]> } : T;

// The schemas and the member vocabulary agree: what travels is a Digest or an Entry (member.ts).
true satisfies Syn["digests"][number] extends Digest ? true : false;
true satisfies Ack["entries"][number] extends Entry ? true : false;

/** Why a gossip message was refused whole: its sender's own generation or heartbeat lies beyond now + skew. */
export interface FutureNews {
  readonly kind: FutureKind;
  readonly nodeUrl: string;
}

/** A message's digests held to the clock bound: those kept, or why the message is refused whole (its sender's own news). */
export type Present<T> = { readonly ok: true; readonly kept: readonly T[] } | { readonly ok: false; readonly refused: FutureNews };

/** How a node answered an inbound message: with its answer, or by refusing it whole (nothing of it applied). */
export type Answered<T> = { readonly ok: true; readonly answer: T } | { readonly ok: false; readonly refused: FutureNews };

/** The two sides of gossip a node answers; the Gossiper provides them. Either may refuse a message whole. */
export interface GossipHandler {
  answerSyn(syn: Syn): Answered<Ack>;
  acceptAck2(ack2: Ack2): Answered<{ type: "done" }>;
}

/** The gossip part of the peer transport (node/peer-transport.ts); tests pass an in-process fake network. */
export interface GossipTransport {
  /** Sends a SYN and returns the ACK, or undefined when the target is down, slow or answers garbage. */
  syn(target: string, message: Syn): Promise<Ack | undefined>;
  /** Sends an ACK2; a lost one only delays news to the next round. */
  ack2(target: string, message: Ack2): Promise<void>;
}
