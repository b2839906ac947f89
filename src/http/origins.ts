// Which origins and Host names this node trusts: its members', loopback's, and what the user configured.

/** Origins of the members' URLs; a URL that does not parse as http(s) is left out rather than trusted. */
export function memberOrigins(urls: readonly string[]): string[] {
  const origins = new Set<string>();
  for (const url of urls) {
    if (!URL.canParse(url)) continue;
    const parsed = new URL(url);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") origins.add(parsed.origin);
  }
  return [...origins].sort();
}

/**
 * True for names that can only mean this machine: browsers resolve localhost and *.localhost to loopback
 * themselves and never ask DNS, so a rebinding page cannot borrow them.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost") || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** The host name of a Host header value, lower-cased, without its port or a trailing dot. */
export function hostnameOf(host: string): string {
  const lower = host.toLowerCase();
  const end = lower.startsWith("[") ? lower.indexOf("]") + 1 : lower.lastIndexOf(":") === -1 ? lower.length : lower.lastIndexOf(":");
  const name = lower.slice(0, end > 0 ? end : lower.length);
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/** The port an origin names, or the scheme's default. */
function portOf(url: URL): string {
  return url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80";
}

/**
 * Whether two origins are the same server seen through two loopback names (http://localhost:7001 and
 * http://127.0.0.1:7001): the dashboard opened at one may call the members listed under the other.
 */
export function sameLoopbackServer(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && portOf(a) === portOf(b) && isLoopbackHost(a.hostname) && isLoopbackHost(b.hostname);
}

/**
 * The origin and path of a request URL as Bun builds it (scheme://host/path?query), by string search
 * rather than a URL parse: hooks that run on every request of a kind pay a few index lookups.
 */
export function splitRequestUrl(url: string): { origin: string; pathname: string } {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart === -1) return { origin: url, pathname: "/" };
  const query = url.indexOf("?", pathStart);
  return { origin: url.slice(0, pathStart), pathname: url.slice(pathStart, query === -1 ? undefined : query) };
}
