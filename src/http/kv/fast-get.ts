// The hot read, served without the framework: GET /api/v1/get/:key from a program (no Origin, so no CORS to
// decide), with the same Host check, key rules, answer and metrics as the Elysia route. Anything else (a page's
// request, another method, a key the app would read another way, a failure that is not the node's own) goes to the
// app; a tracing node or a debug log has no fast paths at all.
import type { BunRequest } from "bun";
import type { NodeMetrics } from "../../metrics/node-metrics.ts";
import { NodeError } from "../../node/errors.ts";
import type { LimeNode } from "../../node/node.ts";
import { nodeErrorResponse } from "../errors.ts";

/** The route the hot read is served on by Bun's router, and the template the metrics count it under (the Elysia route's own). */
export const FAST_GET_ROUTE = "/api/v1/get/:key";

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

/**
 * Whether a fast path may answer: a program's request (no Origin, so no CORS to decide) to a Host naming this node,
 * long enough that the app finds the path where Bun's router does (see ELYSIA_PATH_FROM).
 */
export function fromProgram(request: Request, hostAllowed: (host: string) => boolean): boolean {
  if (request.headers.has("origin")) return false;
  const host = request.headers.get("host");
  return host !== null && host.length >= ELYSIA_PATH_FROM - "http://".length && hostAllowed(host);
}

/**
 * The hot read as a route of Bun's own router (FAST_GET_ROUTE), which hands it the key decoded: cheaper than
 * reading the request's URL (about 0.3 µs of a memory GET's ~7.6 µs of CPU; wrk -c64 on one node). A read that needs no wait
 * (LimeNode.getQuick) is answered at once, not through a promise; everything it does not take goes to the app, as
 * does a failure that is not the node's own. Never rejects: the server hands its promise to Bun as it is.
 */
export function fastGet(options: FastGetOptions): (request: BunRequest<typeof FAST_GET_ROUTE>) => Response | Promise<Response> {
  const { node, hostAllowed, metrics, nowMs, wallMs, app } = options;
  const record = metrics.requestRecorder(FAST_GET_ROUTE, "GET");
  const answered = (response: Response, started: number) => {
    record(response.status, nowMs() - started);
    return response;
  };
  /** The answer to a read's failure when it is the node's own (a 4xx or 5xx in its words); undefined for the app to answer. */
  const refusal = (error: unknown, started: number) => (error instanceof NodeError && error.code !== "internal" ? answered(nodeErrorResponse(error, wallMs), started) : undefined);
  return (request) => {
    const key = request.params.key;
    if (request.method !== "GET" || !readsAsTheApp(key) || !fromProgram(request, hostAllowed)) return app(request);
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

/**
 * Whether the app would read the same key from the path as Bun's router: not when a bad escape made U+FFFD of it
 * (the app refuses the escape), and not when it holds "#" (a fragment that reached the server; the app's reading
 * of it is its own). A Host too short for the app's reading is fromProgram's to leave.
 */
function readsAsTheApp(key: string): boolean {
  return !key.includes("\uFFFD") && !key.includes("#");
}
