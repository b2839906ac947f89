// The one rule for a member's URL, shared by gossip, the replica routes and the NODE_URL/NODE_PEERS parser,
// so a node can never be configured with a URL its peers refuse. No imports: config uses it too.

/** Node URLs longer than this are refused: a real origin is far shorter. */
export const NODE_URL_CHARS_MAX = 512;
/** The highest TCP port; port 0 means "any port" to a listener and names no one. */
const PORT_MAX = 65_535;

/** A DNS label: letters, digits and inner dashes, at most 63 characters (RFC 1035), lower case as URL keeps it. */
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
/**
 * The shape of a canonical http(s) origin: a dotted host name (an IPv4 address is one too) or a bracketed
 * IPv6 address, and an optional port. Credentials, paths, `*`, `;`, `%` and every other character are out.
 */
export const NODE_URL_PATTERN = `^https?://(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::[1-9][0-9]{0,4})?$`;
const SHAPE = new RegExp(NODE_URL_PATTERN);

/**
 * True for a canonical member URL: the shape above and exactly its own origin as WHATWG URL parses it,
 * so one member has one spelling (no default port, no `0x7f.1` or `127.000.0.1` for 127.0.0.1, no
 * `[0:0::1]` for [::1]) and a port from 1 to 65535.
 */
export function isNodeUrl(raw: string): boolean {
  if (raw.length > NODE_URL_CHARS_MAX || !SHAPE.test(raw) || !URL.canParse(raw)) return false;
  const url = new URL(raw);
  const port = url.port === "" ? 1 : Number(url.port);
  return url.origin === raw && port >= 1 && port <= PORT_MAX;
}
