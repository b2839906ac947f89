// What a web page may do with this node. Cross-origin access is opt-in: pages served by the cluster's
// members (the dashboard on another node), by loopback aliases of them, and by CORS_ORIGINS may call
// the public API; every other page is refused with 403 before anything runs, so a page cannot even
// write blind (a text/plain POST needs no preflight). Internal routes never answer a browser at all
// (see internal/guard.ts).
import { Elysia } from "elysia";
import { errorResponse } from "./errors.ts";
import { memberOrigins, sameLoopbackServer, splitRequestUrl } from "./origins.ts";

/** How long a browser may reuse a preflight answer before asking again. */
export const PREFLIGHT_MAX_AGE_S = 600;

/** Methods a page on another origin may use: the public API's, nothing else. */
export const CORS_METHODS = "GET, POST, DELETE";

/**
 * The public routes of SPEC §4, by method, and /metrics (the dashboard charts every member's figures). A key
 * is one encoded path segment, as the routes themselves match it.
 */
const PUBLIC_ROUTES: Readonly<Record<string, readonly RegExp[]>> = {
  GET: [/^\/api\/v1\/get\/[^/]+$/, /^\/api\/v1\/(keys|scan|health)$/, /^\/api\/v1\/replicas\/[^/]+$/, /^\/api\/v1\/cluster\/(state|ring|gossip)$/, /^\/metrics$/],
  POST: [/^\/api\/v1\/(set|mget|mset)$/],
  DELETE: [/^\/api\/v1\/del\/[^/]+$/],
};

/** Whether a page on another origin may call `method` on `pathname`. */
export function isPublicRoute(method: string, pathname: string): boolean {
  return PUBLIC_ROUTES[method]?.some((pattern) => pattern.test(pathname)) ?? false;
}

export interface CorsOptions {
  /**
   * The members' URLs as they stand, read only when a request carries an Origin; the same array until
   * the members change (main passes the ring's node list), so what is derived from it is kept meanwhile.
   */
  readonly memberUrls: () => readonly string[];
  /** CORS_ORIGINS: origins allowed beyond the members; ["*"] allows every origin. */
  readonly corsOrigins: readonly string[];
}

/** Verdicts remembered per origin until the members change: a bound, since the Origin header is the client's to choose. */
const ORIGIN_VERDICTS_MAX = 256;

/** Decides whether an origin other than the request's own may call the public API. */
function originPolicy({ memberUrls, corsOrigins }: CorsOptions): (origin: string) => boolean {
  if (corsOrigins.includes("*")) return () => true;
  const configured = new Set(corsOrigins);
  // Worked out again only when the member list is another one (the ring is swapped whole on every change).
  let seen: readonly string[] | undefined;
  let members: URL[] = [];
  let verdicts = new Map<string, boolean>();
  const decide = (origin: string): boolean => {
    if (configured.has(origin)) return true;
    if (!URL.canParse(origin)) return false;
    const asked = new URL(origin);
    return members.some((member) => member.origin === asked.origin || sameLoopbackServer(member, asked));
  };
  return (origin) => {
    const urls = memberUrls();
    if (urls !== seen) {
      seen = urls;
      members = memberOrigins(urls).map((member) => new URL(member));
      verdicts = new Map();
    }
    const known = verdicts.get(origin);
    if (known !== undefined) return known;
    const verdict = decide(origin);
    if (verdicts.size < ORIGIN_VERDICTS_MAX) verdicts.set(origin, verdict);
    return verdict;
  };
}

function refused(): Response {
  return errorResponse("forbidden", "this node does not answer pages from that origin; list it in CORS_ORIGINS to allow it");
}

export function publicApiCors(options: CorsOptions) {
  const allowed = originPolicy(options);
  const allowAny = options.corsOrigins.includes("*");
  return new Elysia({ name: "cors" }).onRequest(({ request, set }) => {
    // Browsers send Origin on cross-origin requests and on same-origin writes; peers and command-line
    // clients do not, and pay one header lookup here.
    const origin = request.headers.get("origin");
    if (origin === null) return;
    const url = splitRequestUrl(request.url);
    if (request.method === "OPTIONS") {
      const method = request.headers.get("access-control-request-method") ?? "";
      // A preflight for anything else falls through to the usual 405, and the browser refuses the call.
      if (!isPublicRoute(method, url.pathname) || !allowed(origin)) return;
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": allowAny ? "*" : origin,
          "access-control-allow-methods": CORS_METHODS,
          "access-control-allow-headers": "content-type",
          "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
          ...(allowAny ? {} : { vary: "origin" }),
        },
      });
    }
    // A page of this very node (the dashboard, Swagger UI) goes on; internal routes refuse it themselves.
    if (origin === url.origin) return;
    if (!isPublicRoute(request.method, url.pathname) || !allowed(origin)) return refused();
    // Set before routing, so error answers (404, 503, …) carry it too and the page can show them.
    set.headers["access-control-allow-origin"] = allowAny ? "*" : origin;
    if (!allowAny) set.headers.vary = "origin";
    return undefined;
  });
}
