// The dashboard route group: the page at /dashboard and the files its build produced, from that fixed list only.
import { Elysia } from "elysia";
import type { LimeNode } from "../../node/node.ts";
import { errorResponse } from "../errors.ts";
import { type Bundle, cachedBundle } from "./bundle.ts";
import { assetParams } from "./model.ts";
import { ASSET_PREFIX, DASHBOARD_PATH, pageResponse } from "./page.ts";

function acceptsGzip(request: Request): boolean {
  return /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
}

/** Serves the page; the bundle is built on the first request (not at start, so nodes nobody visits pay nothing). */
export function dashboardRoutes(node: LimeNode, bundle: () => Promise<Bundle> = cachedBundle()) {
  return new Elysia({ name: "dashboard" })
    .get(DASHBOARD_PATH, async () => pageResponse(await bundle(), node.members.list().map((m) => m.nodeUrl)), { detail: { hide: true } })
    .get(
      `${ASSET_PREFIX}/:file`,
      async ({ params, request }) => {
        const asset = (await bundle()).assets.get(params.file);
        if (asset === undefined) return errorResponse("route_not_found", `the dashboard has no asset named ${params.file}`);
        const gzip = acceptsGzip(request);
        return new Response(gzip ? asset.gzip : asset.body, {
          headers: {
            "content-type": asset.type,
            // Names carry a content hash, so a name always means the same bytes.
            "cache-control": "public, max-age=31536000, immutable",
            vary: "accept-encoding",
            "x-content-type-options": "nosniff",
            ...(gzip ? { "content-encoding": "gzip" } : {}),
          },
        });
      },
      { params: assetParams, detail: { hide: true } },
    );
}
