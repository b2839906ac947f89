// The bus's handshake: each side proves it knows CLUSTER_SECRET with an HMAC over both sides' fresh nonces,
// so the secret never crosses the wire and a recorded proof is worth nothing on another connection.
import { timingSafeEqual } from "node:crypto";
import { MAC_BYTES, NONCE_BYTES } from "./frame.ts";

const CLIENT_LABEL = "limedb-bus/1 client";
const SERVER_LABEL = "limedb-bus/1 server";
const encoder = new TextEncoder();

export function freshNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
}

function mac(secret: string, ...parts: (string | Uint8Array)[]): Uint8Array {
  // HMAC-SHA256 keyed by the secret; an empty secret (none set) still gives both sides the same key.
  const hasher = new Bun.CryptoHasher("sha256", secret === "" ? new Uint8Array(1) : secret);
  for (const part of parts) hasher.update(typeof part === "string" ? encoder.encode(`${part}\n`) : part);
  return new Uint8Array(hasher.digest());
}

/** What the connecting node sends: proof over the server's nonce, its own, and the URL it says it is. */
export function clientProof(secret: string, serverNonce: Uint8Array, clientNonce: Uint8Array, from: string): Uint8Array {
  return mac(secret, CLIENT_LABEL, serverNonce, clientNonce, from);
}

/** What the accepting node answers: proof in the other direction, so a client never talks to an impostor. */
export function serverProof(secret: string, serverNonce: Uint8Array, clientNonce: Uint8Array): Uint8Array {
  return mac(secret, SERVER_LABEL, clientNonce, serverNonce);
}

/** Constant-time comparison of two MACs. */
export function macsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === MAC_BYTES && b.length === MAC_BYTES && timingSafeEqual(a, b);
}
