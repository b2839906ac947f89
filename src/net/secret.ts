// Checking a presented secret (CLUSTER_SECRET on internal routes, a password on the Redis port) in constant time.
import { createHash, timingSafeEqual } from "node:crypto";

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** True when no secret is configured, or the presented one matches it; in constant time. */
export function secretAccepted(configured: string, presented: string | null): boolean {
  if (configured === "") return true;
  if (presented === null) return false;
  // Hashing first gives equal lengths, which timingSafeEqual needs, without leaking the secret's length.
  return timingSafeEqual(digest(configured), digest(presented));
}
