// How the page reaches a member: through the library's client (limedb/client's per-node calls), with the
// browser's rules added: the serving node by relative URLs, no cookies to other origins, nothing cached.
import { ClientError, nodeClient, type NodeClient } from "../client/node-client.ts";

export { ClientError };
export type { NodeClient };

/** Bound on one request; a node that hangs shows as an error instead of a spinner forever. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** Health probes and figures are shorter: a node that cannot answer them in this long is not healthy. */
export const PROBE_TIMEOUT_MS = 2_000;

/** A member as the page reaches it: its URL (its identity) and the base requests go to, "" for the serving node. */
export interface NodeRef {
  readonly url: string;
  readonly base: string;
}

/** fetch as the page must use it for this node. */
function pageFetch(node: NodeRef) {
  // No cookies or auth to other origins: the API needs none and the nodes' CORS allows none.
  const credentials: RequestCredentials = node.base === "" ? "same-origin" : "omit";
  return (input: string, init: RequestInit) => fetch(input, { ...init, credentials, cache: "no-store" });
}

/** The node's calls, each bounded by REQUEST_TIMEOUT_MS. */
export function clientFor(node: NodeRef): NodeClient {
  return nodeClient(node.url, REQUEST_TIMEOUT_MS, pageFetch(node), node.base);
}

/** The same calls bounded by PROBE_TIMEOUT_MS: health and figures, asked of every member each refresh. */
export function probeFor(node: NodeRef): NodeClient {
  return nodeClient(node.url, PROBE_TIMEOUT_MS, pageFetch(node), node.base);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
