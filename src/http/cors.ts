// Cross-origin access to the public API, so the dashboard served by one node can call the others.
// Only the public routes answer other origins, only for GET, POST and DELETE, and never with credentials;
// internal routes (direct, replica, gossip, admin) get no CORS headers, so a browser page cannot call them.
import { Elysia } from "elysia";

/** How long a browser may reuse a preflight answer before asking again. */
export const PREFLIGHT_MAX_AGE_S = 600;

/** Methods a page on another origin may use: the public API's, nothing else. */
export const CORS_METHODS = "GET, POST, DELETE";

/** The public routes of SPEC §4, by method. A key is one encoded path segment, as the routes themselves match it. */
const PUBLIC_ROUTES: Readonly<Record<string, readonly RegExp[]>> = {
  GET: [/^\/api\/v1\/get\/[^/]+$/, /^\/api\/v1\/keys$/, /^\/api\/v1\/replicas\/[^/]+$/, /^\/api\/v1\/cluster\/(state|ring|gossip)$/, /^\/api\/v1\/health$/],
  POST: [/^\/api\/v1\/set$/],
  DELETE: [/^\/api\/v1\/del\/[^/]+$/],
};

/** Whether a page on another origin may call `method` on `pathname`. */
export function isPublicRoute(method: string, pathname: string): boolean {
  return PUBLIC_ROUTES[method]?.some((pattern) => pattern.test(pathname)) ?? false;
}

export function publicApiCors() {
  return new Elysia({ name: "cors" }).onRequest(({ request, set }) => {
    // Browsers send Origin on every cross-origin request; peers and command-line clients do not, and pay nothing here.
    if (request.headers.get("origin") === null) return;
    const pathname = new URL(request.url).pathname;
    if (request.method === "OPTIONS") {
      const method = request.headers.get("access-control-request-method") ?? "";
      // A preflight for anything else falls through to the usual 405, and the browser refuses the call.
      if (!isPublicRoute(method, pathname)) return;
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": "*",
          "access-control-allow-methods": CORS_METHODS,
          "access-control-allow-headers": "content-type",
          "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
        },
      });
    }
    // Set before routing, so error answers (404, 503, …) carry it too and the page can show them.
    if (isPublicRoute(request.method, pathname)) set.headers["access-control-allow-origin"] = "*";
  });
}
