// The coordinator's failure vocabulary: every expected failure a client can see, by code.
import { StoreError } from "../store/errors.ts";

export type NodeErrorCode =
  | "bad_request"
  | "not_found"
  | "route_not_found"
  | "method_not_allowed"
  | "too_large"
  | "unauthorized"
  | "forbidden"
  | "request_timeout"
  | "unsupported_media_type"
  | "clock_skew"
  | "unavailable"
  | "store_unavailable"
  | "timeout"
  | "internal";

export class NodeError extends Error {
  override readonly name = "NodeError";
  constructor(
    readonly code: NodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Turns a store failure into the node's vocabulary; a write that did not persist is never reported as done. */
export function fromStoreError(error: unknown): unknown {
  if (!(error instanceof StoreError)) return error;
  switch (error.code) {
    case "too_large":
      return new NodeError("too_large", error.message, { cause: error });
    case "corrupt":
    case "io":
    case "closed":
      return new NodeError("store_unavailable", `the store failed and nothing was changed: ${error.message}`, { cause: error });
  }
}
