// The page's only way to reach the cluster: calls over the public HTTP API, each bounded by a timeout, failures typed.
import type { ClusterState, ErrorBody, GetAnswer, GossipView, Health, KeysPage, Replicas, RingView } from "./api-types.ts";

/** Bound on one request; a node that hangs shows as an error instead of a spinner forever. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** Health probes are shorter: a node that cannot answer its health check in this long is not healthy. */
export const PROBE_TIMEOUT_MS = 2_000;
/** The largest page /api/v1/keys gives (SPEC §4). */
export const KEYS_PAGE_SIZE_MAX = 100;

/** A member as the page reaches it: its URL (its identity) and the base requests go to, "" for the serving node. */
export interface NodeRef {
  readonly url: string;
  readonly base: string;
}

export type ApiErrorKind = "http" | "network" | "timeout" | "bad_answer";

/** Why a call failed: the node's own {error, code} for an HTTP error, else what the browser saw. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly nodeUrl: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** An answer as it came: the query executor shows status and body exactly. */
export interface RawAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly body: string;
  readonly durationMs: number;
}

export interface CallOptions {
  readonly body?: unknown;
  readonly timeoutMs?: number;
}

/** One request; resolves with any HTTP answer and rejects with an ApiError only when none came. */
export async function send(node: NodeRef, method: string, path: string, options: CallOptions = {}): Promise<RawAnswer> {
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const started = performance.now();
  const init: RequestInit = {
    method,
    // No cookies or auth to other origins: the API needs none and the nodes' CORS allows none.
    credentials: node.base === "" ? "same-origin" : "omit",
    cache: "no-store",
    signal: AbortSignal.timeout(timeoutMs),
  };
  if (options.body !== undefined) {
    init.headers = { "content-type": "application/json" };
    init.body = JSON.stringify(options.body);
  }
  try {
    const response = await fetch(`${node.base}${path}`, init);
    const body = await response.text();
    return { status: response.status, statusText: response.statusText, body, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) {
      throw new ApiError("timeout", `${method} ${node.url}${path} got no answer within ${timeoutMs} ms`, node.url);
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError("network", `${method} ${node.url}${path} failed: ${reason} (the node is down or unreachable from this browser)`, node.url);
  }
}

/** The {error, code} body of an error answer, or a sentence built from the status when the body is not one. */
function errorOf(node: NodeRef, method: string, path: string, answer: RawAnswer): ApiError {
  let parsed: Partial<ErrorBody> = {};
  try {
    parsed = JSON.parse(answer.body) as Partial<ErrorBody>;
  } catch {
    // Not JSON: the status line says all there is.
  }
  const message = typeof parsed.error === "string" ? parsed.error : `answered ${answer.status} ${answer.statusText}`.trim();
  return new ApiError("http", `${method} ${node.url}${path}: ${message}`, node.url, answer.status, typeof parsed.code === "string" ? parsed.code : undefined);
}

async function json<T>(node: NodeRef, method: string, path: string, options?: CallOptions): Promise<T> {
  const answer = await send(node, method, path, options);
  if (answer.status < 200 || answer.status > 299) throw errorOf(node, method, path, answer);
  try {
    return JSON.parse(answer.body) as T;
  } catch {
    throw new ApiError("bad_answer", `${method} ${node.url}${path} answered ${answer.status} with a body that is not JSON`, node.url, answer.status);
  }
}

async function text(node: NodeRef, method: string, path: string, options?: CallOptions): Promise<string> {
  const answer = await send(node, method, path, options);
  if (answer.status < 200 || answer.status > 299) throw errorOf(node, method, path, answer);
  return answer.body;
}

const keyPath = (key: string) => encodeURIComponent(key);

export function clientFor(node: NodeRef) {
  return {
    node,
    state: () => json<ClusterState>(node, "GET", "/api/v1/cluster/state"),
    ring: () => json<RingView>(node, "GET", "/api/v1/cluster/ring"),
    gossip: () => json<GossipView>(node, "GET", "/api/v1/cluster/gossip"),
    /** 503 carries a health body too (store unusable); it is returned, not thrown, so the page can show why. */
    health: async (): Promise<Health> => {
      const answer = await send(node, "GET", "/api/v1/health", { timeoutMs: PROBE_TIMEOUT_MS });
      if (answer.status !== 200 && answer.status !== 503) throw errorOf(node, "GET", "/api/v1/health", answer);
      try {
        return JSON.parse(answer.body) as Health;
      } catch {
        throw new ApiError("bad_answer", `GET ${node.url}/api/v1/health answered ${answer.status} with a body that is not JSON`, node.url, answer.status);
      }
    },
    keys: (page: number, pageSize: number) => json<KeysPage>(node, "GET", `/api/v1/keys?page=${page}&pageSize=${pageSize}`),
    keysAfter: (after: string, pageSize: number) => json<KeysPage>(node, "GET", `/api/v1/keys?after=${encodeURIComponent(after)}&pageSize=${pageSize}`),
    get: (key: string) => json<GetAnswer>(node, "GET", `/api/v1/get/${keyPath(key)}`),
    set: (key: string, value: string) => text(node, "POST", "/api/v1/set", { body: { key, value } }),
    del: (key: string) => text(node, "DELETE", `/api/v1/del/${keyPath(key)}`),
    replicas: (key: string) => json<Replicas>(node, "GET", `/api/v1/replicas/${keyPath(key)}`),
  };
}

export type Client = ReturnType<typeof clientFor>;

/** The request a query command makes, answered as it came (status and body), for the executor. */
export function sendCommand(node: NodeRef, command: { method: "GET" | "SET" | "DEL"; key: string; value?: string; ttlMs?: number }): Promise<RawAnswer> {
  switch (command.method) {
    case "GET":
      return send(node, "GET", `/api/v1/get/${keyPath(command.key)}`);
    case "SET":
      return send(node, "POST", "/api/v1/set", { body: { key: command.key, value: command.value ?? "", ...(command.ttlMs === undefined ? {} : { ttlMs: command.ttlMs }) } });
    case "DEL":
      return send(node, "DELETE", `/api/v1/del/${keyPath(command.key)}`);
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
