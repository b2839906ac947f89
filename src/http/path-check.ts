// Refuses a path whose percent-encoding is broken, before any route decodes it into a key.
import { Elysia } from "elysia";
import { NodeError } from "../node/errors.ts";
import { splitRequestUrl } from "./origins.ts";

/** The path part of a request URL, or undefined when it holds no escape at all: nearly every request costs one scan. */
function encodedPath(url: string): string | undefined {
  if (!url.includes("%")) return undefined;
  const { pathname } = splitRequestUrl(url);
  return pathname.includes("%") ? pathname : undefined;
}

/** Whether every escape in the path is `%` and two hex digits, and together they spell valid UTF-8. */
export function isWellEncoded(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Bun decodes a bad escape (`%zz`, a lone `%C3`) leniently, to itself or to U+FFFD, so a DELETE of
 * `%C3` would delete the key "\uFFFD": another key than the client named. Such a path is a 400.
 */
export function strictPathEncoding() {
  return new Elysia({ name: "path-check" }).onRequest(({ request }) => {
    const path = encodedPath(request.url);
    if (path !== undefined && !isWellEncoded(path)) throw new NodeError("bad_request", "the path holds an invalid percent-encoding; encode keys as UTF-8 with encodeURIComponent");
  });
}
