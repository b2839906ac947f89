// The hot read, served without the framework: GET /api/v1/get/:key from a program (no Origin, so no CORS to
// decide), with the same Host check, path check, key rules, answer and metrics as the Elysia route. Anything
// else (a page's request, a tracing node, a debug log, a failure that is not the node's own) goes to the app.
import type { NodeMetrics } from "../../metrics/node-metrics.ts";
import { NodeError } from "../../node/errors.ts";
import type { LimeNode } from "../../node/node.ts";
import { nodeErrorResponse } from "../errors.ts";
import { isWellEncoded } from "../path-check.ts";

const PREFIX = "/api/v1/get/";
/** The route template the metrics count it under, the Elysia route's own. */
const ROUTE = "/api/v1/get/:key";

export interface FastGetOptions {
  readonly node: LimeNode;
  readonly hostAllowed: (host: string) => boolean;
  readonly metrics: NodeMetrics;
  /** Milliseconds, for the request's duration. */
  readonly nowMs: () => number;
  /** Wall-clock ms, for the time a clock refusal carries. */
  readonly wallMs: () => number;
  /** The app, which answers a read whose failure is not the node's own (logged there as the defect it is). */
  readonly app: (request: Request) => Response | Promise<Response>;
}

/**
 * Where the path starts in a request URL, or -1 when the fast paths must leave the request to the app because the
 * app reads its path another way: Elysia looks for the path from index 11 on (a host of 4 characters or more), so a
 * shorter Host is the app's, and it cuts the path only at "?", so a URL in which Bun kept a "#" is the app's too.
 */
export function pathStartOf(url: string): number {
  if (url.includes("#")) return -1;
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  return pathStart < ELYSIA_PATH_FROM ? -1 : pathStart;
}

/** The index from which Elysia looks for the path in a request URL (dist/utils.mjs: `url.indexOf("/", 11)`). */
const ELYSIA_PATH_FROM = 11;

/** The key a fast GET names, or undefined when the request is not one the fast path takes. */
function keyOf(request: Request): string | undefined {
  if (request.method !== "GET") return undefined;
  const url = request.url;
  const pathStart = pathStartOf(url);
  if (pathStart === -1 || !url.startsWith(PREFIX, pathStart)) return undefined;
  const query = url.indexOf("?", pathStart);
  const end = query === -1 ? url.length : query;
  const raw = url.slice(pathStart + PREFIX.length, end);
  // An empty key, or one spanning segments, is the app's to refuse.
  if (raw === "" || raw.includes("/")) return undefined;
  if (!raw.includes("%")) return raw;
  return isWellEncoded(raw) ? decodeURIComponent(raw) : undefined;
}

/** Whether a fast path may answer: a program's request (no Origin, so no CORS to decide) to a Host naming this node. */
export function fromProgram(request: Request, hostAllowed: (host: string) => boolean): boolean {
  if (request.headers.has("origin")) return false;
  const host = request.headers.get("host");
  return host !== null && hostAllowed(host);
}

/**
 * A handler that answers the hot read itself, or returns undefined for the app to answer the request. A read that
 * needs no wait (LimeNode.getQuick) is answered at once, not through a promise; a failure that is not the node's
 * own answer goes to the app. Never rejects: the server hands its promise to Bun as it is, one promise less per
 * forwarded read.
 */
export function fastGet(options: FastGetOptions): (request: Request) => Response | Promise<Response> | undefined {
  const { node, hostAllowed, metrics, nowMs, wallMs, app } = options;
  const record = metrics.requestRecorder(ROUTE, "GET");
  const answered = (response: Response, started: number) => {
    record(response.status, nowMs() - started);
    return response;
  };
  /** The answer to a read's failure when it is the node's own (a 4xx or 5xx in its words); undefined for the app to answer. */
  const refusal = (error: unknown, started: number) => (error instanceof NodeError && error.code !== "internal" ? answered(nodeErrorResponse(error, wallMs), started) : undefined);
  return (request) => {
    const key = keyOf(request);
    if (key === undefined || !fromProgram(request, hostAllowed)) return undefined;
    const started = nowMs();
    let found: Response | Promise<Response>;
    try {
      found = node.getQuick(key, (value) => answered(Response.json(value), started));
    } catch (error) {
      return refusal(error, started) ?? app(request);
    }
    if (!(found instanceof Promise)) return found;
    return found.catch((error: unknown) => refusal(error, started) ?? app(request));
  };
}
