// The hot read, served without the framework: GET /api/v1/get/:key from a program (no Origin, so no CORS to
// decide), with the same Host check, path check, key rules, answer and metrics as the Elysia route. Anything else
// (a page's request, another method, a spelling the app would read another way, a failure that is not the node's
// own) goes to the app; a tracing node or a debug log has no fast paths at all.
import type { BunRequest } from "bun";
import type { NodeMetrics } from "../../metrics/node-metrics.ts";
import { NodeError } from "../../node/errors.ts";
import type { LimeNode } from "../../node/node.ts";
import { nodeErrorResponse } from "../errors.ts";
import { isWellEncoded } from "../path-check.ts";

/** The route the hot read is served on by Bun's router, and the template the metrics count it under (the Elysia route's own). */
export const FAST_GET_ROUTE = "/api/v1/get/:key";
const PREFIX = "/api/v1/get/";
/** Host header values whose fast-path verdict is remembered: a bound, since the header is the client's to choose. */
const FAST_HOST_VERDICTS_MAX = 256;

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

/** The key a GET names as the app reads it from the request's URL, or undefined when the fast path leaves it to the app. */
function keyInUrl(request: Request): string | undefined {
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

/**
 * Whether Bun's router and the app read this key alike from any path the router took it from: letters, digits and
 * "-_.~:" only, and no dot segment. The router decodes the raw path itself, while the app reads the URL Bun
 * builds, which resolves dot segments and backslashes, percent-encodes raw bytes and keeps a "#"; any other key
 * is read from that URL as the app reads it.
 */
function plainKey(key: string): boolean {
  if (key === "." || key === "..") return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const plain = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x3a) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
    if (!plain) return false;
  }
  return true;
}

/**
 * hostAllowed, for the fast paths: only a Host the URL Bun builds holds as it is, 4 characters or more, so that
 * the app finds the path where the router does (a Host with "/", "?", "#", "\\" or "@", a default port or an
 * escape would move it). Verdicts are remembered, up to FAST_HOST_VERDICTS_MAX values.
 */
export function fastHostPolicy(hostAllowed: (host: string) => boolean): (host: string) => boolean {
  const verdicts = new Map<string, boolean>();
  return (host) => {
    const known = verdicts.get(host);
    if (known !== undefined) return known;
    const verdict = hostAllowed(host) && host.length >= ELYSIA_PATH_FROM - "http://".length && URL.canParse(`http://${host}/`) && new URL(`http://${host}/`).host === host.toLowerCase();
    if (verdicts.size < FAST_HOST_VERDICTS_MAX) verdicts.set(host, verdict);
    return verdict;
  };
}

/** Whether a fast path may answer: a program's request (no Origin, so no CORS to decide) to a Host it takes (fastHostPolicy). */
export function fromProgram(request: Request, hostTaken: (host: string) => boolean): boolean {
  if (request.headers.has("origin")) return false;
  const host = request.headers.get("host");
  return host !== null && hostTaken(host);
}

/**
 * The hot read as a route of Bun's own router (FAST_GET_ROUTE), which hands it the key decoded: a plain key is
 * taken as it is, cheaper than reading the request's URL (about 0.3 µs of a memory GET's ~7.6 µs of CPU; wrk -c64
 * on one node); any other is read from the URL as the app reads it. A read that needs no wait (LimeNode.getQuick)
 * is answered at once, not through a promise; everything it does not take goes to the app, as does a failure that
 * is not the node's own. Never rejects: the server hands its promise to Bun as it is.
 */
export function fastGet(options: FastGetOptions): (request: BunRequest<typeof FAST_GET_ROUTE>) => Response | Promise<Response> {
  const { node, metrics, nowMs, wallMs, app } = options;
  const hostTaken = fastHostPolicy(options.hostAllowed);
  const record = metrics.requestRecorder(FAST_GET_ROUTE, "GET");
  const answered = (response: Response, started: number) => {
    record(response.status, nowMs() - started);
    return response;
  };
  /** The answer to a read's failure when it is the node's own (a 4xx or 5xx in its words); undefined for the app to answer. */
  const refusal = (error: unknown, started: number) => (error instanceof NodeError && error.code !== "internal" ? answered(nodeErrorResponse(error, wallMs), started) : undefined);
  return (request) => {
    if (request.method !== "GET" || !fromProgram(request, hostTaken)) return app(request);
    const routed = request.params.key;
    const key = plainKey(routed) ? routed : keyInUrl(request);
    if (key === undefined) return app(request);
    const started = nowMs();
    const failed = (error: unknown) => refusal(error, started) ?? app(request);
    try {
      // A refusal that comes later is answered by `failed` in the read's own callback: no promise of its own.
      return node.getQuick(key, (value) => answered(Response.json(value), started), failed);
    } catch (error) {
      return failed(error);
    }
  };
}
