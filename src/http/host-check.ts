// The defence against DNS rebinding: a page on attacker.example whose name is re-pointed at 127.0.0.1 reaches
// this node as "same origin", but its requests still say Host: attacker.example, and those are refused.
import { Elysia } from "elysia";
import { errorResponse } from "./errors.ts";
import { hostnameOf, isLoopbackHost, splitRequestUrl } from "./origins.ts";

export interface HostCheckOptions {
  /** NODE_URL: the name peers and clients use for this node. */
  readonly nodeUrl: string;
  /** ALLOWED_HOSTS: further names this node answers to; ["*"] turns the check off. */
  readonly allowedHosts: readonly string[];
}

/** Host header values whose verdict is remembered: a bound, since the header is the client's to choose. */
const HOST_VERDICTS_MAX = 256;

/**
 * A Host header as RFC 9110 (7.2) has it: a bracketed IP literal or a name (RFC 3986 reg-name), then an optional
 * port, and nothing else. A path, query, fragment, userinfo or backslash after a name this node answers to (as in
 * "127.0.0.1:8484/x") would otherwise pass on the name alone, and the app would look for its routes under a URL
 * the client did not send.
 */
const HOST_HEADER = /^(?:\[[0-9A-Za-z:.%]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

/** Whether a Host header names this node: its own NODE_URL host, a loopback name, or an ALLOWED_HOSTS entry, written as a Host header is (HOST_HEADER). */
export function hostPolicy({ nodeUrl, allowedHosts }: HostCheckOptions): (host: string) => boolean {
  if (allowedHosts.includes("*")) return () => true;
  const names = new Set([hostnameOf(new URL(nodeUrl).host), ...allowedHosts.map(hostnameOf)]);
  const verdicts = new Map<string, boolean>();
  return (host) => {
    const known = verdicts.get(host);
    if (known !== undefined) return known;
    const name = hostnameOf(host);
    const verdict = HOST_HEADER.test(host) && (names.has(name) || isLoopbackHost(name));
    if (verdicts.size < HOST_VERDICTS_MAX) verdicts.set(host, verdict);
    return verdict;
  };
}

/** The host[:port] part of an absolute URL, or undefined for a bare path. */
function hostOfUrl(url: string): string | undefined {
  const start = url.indexOf("//");
  if (start === -1 || url.startsWith("/")) return undefined;
  const { origin } = splitRequestUrl(url);
  return origin.slice(start + 2);
}

export function hostCheck(options: HostCheckOptions) {
  const allowed = hostPolicy(options);
  return new Elysia({ name: "host-check" }).onRequest(({ request }) => {
    // Every HTTP/1.1 request carries Host; one built in-process (app.handle) names its host in the URL.
    // An HTTP/1.0 request may name none: Bun then gives a bare path as its URL, and there is nothing to check.
    const host = request.headers.get("host") ?? hostOfUrl(request.url);
    if (host === undefined) return errorResponse("bad_request", "the request names no Host; send a Host header");
    if (allowed(host)) return;
    return errorResponse("forbidden", "this node does not answer to the host this request names; add the name to ALLOWED_HOSTS if it is really this node");
  });
}
