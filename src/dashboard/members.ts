// Which URLs the page may talk to: the members listed in the serving node's cluster state, and nothing else.
import type { NodeRef } from "./nodes.ts";

/** What the page knows of the serving node's view: its own URL and its members. */
export interface Membership {
  readonly nodeUrl: string;
  readonly members: readonly { readonly url: string }[];
}

/** Node URLs longer than this are not worth parsing; members' URLs are far shorter (gossip caps them too). */
const URL_CHARS_MAX = 2048;

/**
 * A URL in one comparable form: http(s) only, no credentials, query or fragment, no trailing slash.
 * Undefined when the text is not such a URL.
 */
export function normalizeUrl(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > URL_CHARS_MAX || !URL.canParse(trimmed)) return undefined;
  const url = new URL(trimmed);
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") return undefined;
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** The serving node is reached through the page's own origin, whatever its NODE_URL says (a proxy may sit in front). */
export function refFor(url: string, membership: Membership): NodeRef {
  return { url, base: url === membership.nodeUrl ? "" : url };
}

export type Resolved = { readonly ok: true; readonly node: NodeRef } | { readonly ok: false; readonly reason: string };

/** The member a user asked for, or why the page refuses to talk to that URL. */
export function resolveMember(candidate: string, membership: Membership): Resolved {
  const wanted = normalizeUrl(candidate);
  if (wanted === undefined) return { ok: false, reason: `"${candidate.trim().slice(0, 200)}" is not an http(s) node URL` };
  const member = membership.members.find((m) => normalizeUrl(m.url) === wanted);
  if (member === undefined) {
    return { ok: false, reason: `${wanted} is not a member of this cluster; the dashboard talks only to the members ${membership.nodeUrl} lists` };
  }
  return { ok: true, node: refFor(member.url, membership) };
}
