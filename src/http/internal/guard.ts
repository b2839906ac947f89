// The guard of internal and admin endpoints: never a browser, JSON bodies only, and the cluster secret when one is set.
import { NodeError } from "../../node/errors.ts";
import { SECRET_HEADER } from "../../node/peer-client.ts";

import { secretAccepted } from "../../net/secret.ts";

export { secretAccepted };

/**
 * Browsers mark every request they send: Origin on anything cross-origin or that writes, Sec-Fetch-Site
 * on everything (no Sec-Fetch-Site, or "none", is a request a person typed or a program sent). Peers
 * and the CLI send neither, so a page open in any browser on the machine can never drive these routes.
 */
function fromBrowser(request: Request): boolean {
  if (request.headers.get("origin") !== null) return true;
  const site = request.headers.get("sec-fetch-site");
  return site !== null && site !== "none";
}

/** application/json, with or without parameters such as charset. */
function isJson(contentType: string | null): boolean {
  return contentType !== null && /^application\/json\s*(;|$)/i.test(contentType.trim());
}

/**
 * Refuses a browser (403), a caller without the cluster secret (401) and a POST that is not JSON (415).
 * Used as the first body parser and as a transform, ahead of parsing and validation: a refused caller
 * gets its answer whatever it sends, and cannot make the node read a body or learn from validation.
 */
export function internalGuard(secret: string) {
  return ({ request }: { request: Request }): undefined => {
    if (fromBrowser(request)) throw new NodeError("forbidden", "internal endpoints do not answer web pages");
    if (!secretAccepted(secret, request.headers.get(SECRET_HEADER))) {
      throw new NodeError("unauthorized", `this internal endpoint needs the cluster secret in the ${SECRET_HEADER} header`);
    }
    // A JSON content type cannot be sent cross-origin without a preflight, which these routes never grant.
    if (request.method === "POST" && !isJson(request.headers.get("content-type"))) {
      throw new NodeError("unsupported_media_type", "internal endpoints take only application/json bodies");
    }
    return undefined;
  };
}
