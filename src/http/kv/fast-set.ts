// The hot write, served without the framework: POST /api/v1/set from a program (no Origin, so no CORS to
// decide) whose body is the plain {"key", "value"[, "ttlMs"]} object, with the same Host check, body limit and
// deadline, rules, answers and metrics as the Elysia route. Any other body goes to the app as a request of the
// same bytes, so every refusal of a body (and any body the schema takes that this path does not) stays the
// app's alone. Through the app a SET cost about twice a raw Bun.serve one (bench/README.md, http part).
import { TTL_MS_MAX } from "../../node/checks.ts";
import { NodeError } from "../../node/errors.ts";
import { readBodyBytesWithin, REQUEST_TIMEOUT_HEADERS, TEXT_PLAIN } from "../body.ts";
import { errorResponse, nodeErrorResponse } from "../errors.ts";
import { fastHostPolicy, fromProgram, pathStartOf, type FastGetOptions } from "./fast-get.ts";

const PATH = "/api/v1/set";
/** The fields of the plain body; a body with any other goes to the app. */
const FIELDS: ReadonlySet<string> = new Set(["key", "value", "ttlMs"]);
const UTF8 = new TextDecoder();

export interface FastSetOptions extends FastGetOptions {
  /** The route's body limit (the app's bodyBytesMax). */
  readonly bodyBytesMax: number;
  /** The app: answers a body this path leaves to it, handed over as a request of the same bytes. */
  readonly app: (request: Request) => Response | Promise<Response>;
  /** Told of a failure that is this node's bug (main logs it), as the app is. */
  readonly onInternalError?: (error: unknown, request: Request, route: string) => void;
}

interface PlainSet {
  readonly key: string;
  readonly value: string;
  readonly ttlMs: number | undefined;
}

/** Whether the request is a POST of exactly /api/v1/set (a query aside); other spellings are the app's. */
function isSetRequest(request: Request): boolean {
  if (request.method !== "POST") return false;
  const url = request.url;
  const pathStart = pathStartOf(url);
  if (pathStart === -1 || !url.startsWith(PATH, pathStart)) return false;
  const end = pathStart + PATH.length;
  return end === url.length || url[end] === "?";
}

/** The body as a SET when it is the plain object the route's schema takes; undefined for anything else. */
export function plainSet(text: string): PlainSet | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  for (const field in body) if (!FIELDS.has(field)) return undefined;
  const { key, value, ttlMs } = body as Record<string, unknown>;
  if (typeof key !== "string" || key === "" || typeof value !== "string") return undefined;
  if (ttlMs !== undefined && !(typeof ttlMs === "number" && Number.isInteger(ttlMs) && ttlMs >= 1 && ttlMs <= TTL_MS_MAX)) return undefined;
  return { key, value, ttlMs: ttlMs as number | undefined };
}

/** The request again with the body already read, for the app: the same bytes (not text, which may not encode back to them). */
function sameBytes(request: Request, bytes: Uint8Array<ArrayBuffer>): Request {
  const headers = new Headers(request.headers);
  headers.delete("content-length");
  headers.delete("transfer-encoding");
  return new Request(request.url, { method: request.method, headers, body: bytes });
}

/** A handler that answers the hot write itself, or returns undefined for the app to answer the request. Never rejects. */
export function fastSet(options: FastSetOptions): (request: Request) => Promise<Response> | undefined {
  const { node, metrics, nowMs, wallMs, bodyBytesMax } = options;
  const hostTaken = fastHostPolicy(options.hostAllowed);
  const ok = () => new Response("OK", { headers: { "content-type": TEXT_PLAIN } });
  const record = metrics.requestRecorder(PATH, "POST");
  return (request) => {
    if (!isSetRequest(request) || !fromProgram(request, hostTaken)) return undefined;
    const started = nowMs();
    const answered = (response: Response) => {
      record(response.status, nowMs() - started);
      return response;
    };
    // As the app answers a failure: the node's own in its words (its bugs logged too), anything else logged and hidden.
    const failed = (error: unknown) => {
      if (!(error instanceof NodeError) || error.code === "internal") options.onInternalError?.(error, request, PATH);
      if (error instanceof NodeError) return answered(nodeErrorResponse(error, wallMs));
      return answered(errorResponse("internal", "the node failed to handle this request; it has been logged"));
    };
    return readBodyBytesWithin(request, bodyBytesMax)
      .then(
        (bytes) => {
          // As Body.text() decodes: invalid sequences become U+FFFD, a leading BOM goes.
          const set = plainSet(UTF8.decode(bytes));
          if (set === undefined) return options.app(sameBytes(request, bytes as Uint8Array<ArrayBuffer>));
          return node.set(set.key, set.value, set.ttlMs).then(() => answered(ok()), failed);
        },
        (error: unknown) => {
          // As the app answers a body it could not read: its limit (413) or deadline (408, closing), else not JSON.
          if (!(error instanceof NodeError)) return answered(errorResponse("bad_request", "the body is not valid JSON"));
          return answered(errorResponse(error.code, error.message, error.code === "request_timeout" ? REQUEST_TIMEOUT_HEADERS : {}));
        },
      )
      .catch(failed);
  };
}
