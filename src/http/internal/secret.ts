// The CLUSTER_SECRET check of internal endpoints, in constant time so timing reveals nothing of the secret.
import { createHash, timingSafeEqual } from "node:crypto";

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
