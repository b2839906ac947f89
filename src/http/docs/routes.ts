// Swagger UI at /swagger and the OpenAPI JSON at /swagger/json, with the UI assets served by the node itself.
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { dirname, join } from "node:path";

/** The only files the asset route serves: a fixed list, never a path a visitor chose. */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};
const ASSET_DIR = dirname(Bun.resolveSync("swagger-ui-dist/package.json", import.meta.dir));
export const ASSET_PREFIX = "/swagger/assets";

export function docsRoutes(version: string) {
  return new Elysia({ name: "docs" })
    // Swagger UI fetches the document by a URL relative to the page, which resolves only from /swagger:
    // from /swagger/ it would ask for /swagger/swagger/json. The trailing-slash page moves to the one that works.
    .onRequest(({ request }) => {
      if (request.url.includes("/swagger/") && new URL(request.url).pathname === "/swagger/") {
        return new Response(null, { status: 308, headers: { location: "/swagger" } });
      }
      return undefined;
    })
    .use(
      openapi({
        path: "/swagger",
        specPath: "/swagger/json",
        provider: "swagger-ui",
        swagger: { theme: `${ASSET_PREFIX}/swagger-ui.css`, cdn: `${ASSET_PREFIX}/swagger-ui-bundle.js`, autoDarkMode: false },
        documentation: {
          info: { title: "LimeDB", version, description: "A distributed key-value store for Bun. Errors are JSON {error, code}." },
          tags: [
            { name: "keys", description: "Read, write and list keys" },
            { name: "cluster", description: "Membership and the ring" },
            { name: "health", description: "Liveness and store status" },
          ],
        },
        exclude: { paths: [new RegExp(`^${ASSET_PREFIX}`)] },
      }),
    )
    .get(`${ASSET_PREFIX}/:file`, ({ params, set }) => {
      const type = ASSETS[params.file];
      if (type === undefined) {
        set.status = 404;
        return { error: `no asset named ${params.file}`, code: "route_not_found" };
      }
      return new Response(Bun.file(join(ASSET_DIR, params.file)), { headers: { "content-type": type, "cache-control": "public, max-age=86400" } });
    }, { detail: { hide: true } });
}
