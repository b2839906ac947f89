// Errors on the wire: one JSON shape, and one exhaustive mapping from failure code to HTTP status.
import type { NodeError, NodeErrorCode } from "../node/errors.ts";
import { NOW_HEADER } from "../node/peer-client.ts";

export interface ErrorBody {
  readonly error: string;
  readonly code: NodeErrorCode;
}

export function statusOf(code: NodeErrorCode): number {
  switch (code) {
    case "bad_request":
    case "clock_skew":
      return 400;
    case "unauthorized":
      return 401;
    case "forbidden":
      return 403;
    case "not_found":
    case "route_not_found":
      return 404;
    case "method_not_allowed":
      return 405;
    case "request_timeout":
      return 408;
    case "too_large":
      return 413;
    case "unsupported_media_type":
      return 415;
    case "internal":
      return 500;
    case "unavailable":
    case "store_unavailable":
      return 503;
    case "timeout":
      return 504;
  }
}

export function errorResponse(code: NodeErrorCode, message: string, headers: Record<string, string> = {}): Response {
  const body: ErrorBody = { error: message, code };
  return Response.json(body, { status: statusOf(code), headers });
}

/** A NodeError as every route answers it; a refusal of a clock from the future carries this node's wall time. */
export function nodeErrorResponse(error: NodeError, wallMs: () => number): Response {
  return errorResponse(error.code, error.message, error.code === "clock_skew" ? { [NOW_HEADER]: String(wallMs()) } : {});
}
