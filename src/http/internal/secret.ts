// The CLUSTER_SECRET check of internal endpoints, in constant time so timing reveals nothing of the secret.
import { createHash, timingSafeEqual } from "node:crypto";
import { NodeError } from "../../node/errors.ts";
import { SECRET_HEADER } from "../../node/peer-client.ts";

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** True when no secret is configured, or the presented one matches it. */
export function secretAccepted(configured: string, presented: string | null): boolean {
  if (configured === "") return true;
  if (presented === null) return false;
  // Hashing first gives equal lengths, which timingSafeEqual needs, without leaking the secret's length.
  return timingSafeEqual(digest(configured), digest(presented));
}

/**
 * Refuses a request without the cluster secret. Used as the first body parser and as a transform,
 * ahead of parsing and validation: a caller without the secret gets 401 whatever it sends, and cannot
 * make the node read a body or learn from its validation errors.
 */
export function secretGuard(secret: string) {
  return ({ request }: { request: Request }): undefined => {
    if (!secretAccepted(secret, request.headers.get(SECRET_HEADER))) {
      throw new NodeError("unauthorized", `this internal endpoint needs the cluster secret in the ${SECRET_HEADER} header`);
    }
    return undefined;
  };
}
