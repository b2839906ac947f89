// Builds the HTTP face of a node: every route group, the body limit, and one JSON error for every failure.
import { Elysia, ValidationError } from "elysia";
import { NodeError, type NodeErrorCode } from "../node/errors.ts";
import type { LimeNode } from "../node/node.ts";
import { KEY_BYTES_MAX } from "../store/limits.ts";
import { clusterRoutes } from "./cluster/routes.ts";
import { docsRoutes } from "./docs/routes.ts";
import { errorResponse, nodeErrorResponse } from "./errors.ts";
import { REQUEST_TIMEOUT_HEADERS } from "./body.ts";
import { healthRoutes } from "./health/routes.ts";
import { internalRoutes, type GossipHandler } from "./internal/routes.ts";
import { kvRoutes } from "./kv/routes.ts";
import type { ClusterScan } from "../node/scan.ts";
import { adminRoutes } from "./admin/routes.ts";
import { replicaRoutes } from "./internal/replica-routes.ts";
import type { BackgroundStatus } from "../node/background.ts";
import type { ReplicaService } from "../node/replica-service.ts";
import { allowedMethods } from "./method-check.ts";
import { strictPathEncoding } from "./path-check.ts";
import { publicApiCors } from "./cors.ts";
import { hostCheck } from "./host-check.ts";
import { splitRequestUrl } from "./origins.ts";
import { dashboardRoutes } from "./dashboard/routes.ts";
import { metricsRoutes, type MetricsOptions } from "./metrics/routes.ts";
import { requestHooks, type AnsweredRequest, type RequestTracing } from "./request-hooks.ts";

export interface AppOptions {
  readonly version: string;
  readonly gossip: GossipHandler;
  readonly replicas: ReplicaService;
  /** The cluster-wide scan behind GET /api/v1/scan. */
  readonly scan: ClusterScan;
  /** Replication figures for the cluster and health routes. */
  readonly status: () => BackgroundStatus;
  /** Starts a graceful leave; the process exits once its data is handed off. */
  readonly leave: () => void;
  /** CLUSTER_SECRET; empty leaves internal endpoints open to every program that can reach the port (never to a browser). */
  readonly secret: string;
  /** ALLOWED_HOSTS and CORS_ORIGINS; both empty (the default) trust only this node's own name, loopback and the members. */
  readonly trust?: { readonly allowedHosts: readonly string[]; readonly corsOrigins: readonly string[] };
  readonly clock: () => number;
  /** Logs failures that are not the client's fault; injected so tests stay quiet. */
  readonly onInternalError?: (error: unknown, request: Request, route: string | undefined) => void;
  /** What GET /metrics exposes, and the clock (ms) each request is timed by. */
  readonly metrics: MetricsOptions & { readonly nowMs: () => number };
  /** Server spans; given only when OTEL_ENDPOINT is set. */
  readonly tracing?: RequestTracing;
  /** One call per answered request; given only at LOG_LEVEL=debug. */
  readonly onAnswered?: (answered: AnsweredRequest) => void;
}

/**
 * Bodies larger than this are refused from their Content-Length before a byte is read. JSON may
 * escape a character as six bytes (\u0000), so a legal value can take up to six times its size.
 */
export function bodyBytesMax(valueBytesMax: number): number {
  return 6 * (valueBytesMax + KEY_BYTES_MAX) + 4096;
}

/** Bun refuses a declared body beyond this itself; anything between our limit and this gets our JSON 413. */
const BUN_BODY_BYTES_MAX = 1024 * 1024 * 1024;

function validationMessage(error: ValidationError): string {
  if (typeof error.customError === "string") return error.customError;
  const first = error.valueError;
  const where = error.type === "body" ? "body" : error.type === "params" ? "path" : error.type;
  if (first === undefined) return `${where} is not valid`;
  const field = first.path.replace(/^\//, "").replaceAll("/", ".");
  return `${where}${field === "" ? "" : ` field "${field}"`}: ${first.message}`;
}

/**
 * What is logged of a response that broke its schema: the field and the schema's complaint. Elysia's own
 * message quotes the whole response, a record's key and value included, and no key or value is ever logged.
 */
function withoutValues(error: ValidationError): Error {
  const logged = new Error(validationMessage(error));
  logged.name = "ValidationError";
  return logged;
}

export function createApp(node: LimeNode, options: AppOptions) {
  const limit = bodyBytesMax(node.valueBytesMax);
  /** One JSON error for every failure; `app` is read only when a request fails, long after it is built. */
  const errorReply = ({ code, error, request, route }: { code: string | number; error: unknown; request: Request; route: string | undefined }): Response => {
    const internal = (failure: unknown) => options.onInternalError?.(failure, request, route);
    // Elysia wraps what a body parser throws in a ParseError; our reader's NodeError is the cause.
    const cause = (error as { cause?: unknown }).cause;
    if (code === "PARSE" && cause instanceof NodeError) return errorResponse(cause.code, cause.message, cause.code === "request_timeout" ? REQUEST_TIMEOUT_HEADERS : {});
    if (error instanceof NodeError) {
      if (error.code === "internal") internal(error);
      // A sender refused as from the future learns this node's time with it: its own clock may be the wrong one.
      return nodeErrorResponse(error, options.clock);
    }
    switch (code) {
      case "VALIDATION": {
        const invalid = error as ValidationError;
        // A response that breaks its own schema is this node's bug, not the client's: 500, and logged.
        if (invalid.type === "response") {
          internal(withoutValues(invalid));
          return errorResponse("internal", "the node built an invalid response; it has been logged");
        }
        return errorResponse("bad_request", validationMessage(invalid));
      }
      case "PARSE":
        return errorResponse("bad_request", "the body is not valid JSON");
      case "NOT_FOUND": {
        const { pathname } = splitRequestUrl(request.url);
        const allowed = allowedMethods(app.routes, pathname);
        return allowed.length > 0
          ? errorResponse("method_not_allowed", `${request.method} is not allowed here; use ${allowed.join(", ")}`, { allow: allowed.join(", ") })
          : errorResponse("route_not_found", `no route for ${request.method} ${pathname}`);
      }
      default: {
        internal(error);
        const status: NodeErrorCode = "internal";
        return errorResponse(status, "the node failed to handle this request; it has been logged");
      }
    }
  };
  // Bun's own cap answers with an empty 413 before any hook runs, so it sits far above ours.
  // Each route that reads a body caps it itself (cappedJson), by Content-Length before reading.
  const app = new Elysia({ serve: { maxRequestBodySize: BUN_BODY_BYTES_MAX } })
    // Destructured, not passed whole: Elysia reads which context fields a hook uses, and a hook that
    // takes the whole context makes it parse every body, even on routes that take none.
    .onError({ as: "global" }, ({ code, error, request, set, route }) => {
      // The metrics hook reads the status from `set`, which a Response returned here does not change.
      const response = errorReply({ code, error, request, route: route === "" ? undefined : route });
      set.status = response.status;
      return response;
    })
    .use(requestHooks({ metrics: options.metrics.metrics, nowMs: options.metrics.nowMs, tracing: options.tracing, onAnswered: options.onAnswered }))
    .use(metricsRoutes(options.metrics))
    .use(hostCheck({ nodeUrl: node.nodeUrl, allowedHosts: options.trust?.allowedHosts ?? [] }))
    .use(strictPathEncoding())
    .use(publicApiCors({ memberUrls: () => node.ring.nodes, corsOrigins: options.trust?.corsOrigins ?? [] }))
    .use(kvRoutes(node, options.scan, limit, (error, request, route) => options.onInternalError?.(error, request, route)))
    .use(clusterRoutes(node, options.clock, options.status))
    .use(internalRoutes(node, options.gossip, options.secret, limit))
    .use(replicaRoutes(options.replicas, options.secret))
    .use(adminRoutes(node, options.leave, options.secret, (error, request) => options.onInternalError?.(error, request, "/api/v1/admin/restore")))
    .use(healthRoutes(node, options.version, options.status))
    .use(docsRoutes(options.version))
    .use(dashboardRoutes(node));
  return app;
}
