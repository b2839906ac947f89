// One node's public HTTP API as typed calls, every call bounded by a timeout, every failure a ClientError that
// carries the node's own error code. The library's client (index.ts) fails over between several of these.
import type { Static } from "@sinclair/typebox";
// Type-only imports: the route models stay the one source of the wire's types, and Elysia is never loaded here.
import type { gossipResponse, ringResponse, stateResponse } from "../http/cluster/model.ts";
import type { getResponse, keysResponse, mgetResponse, msetResponse, replicasResponse, scanResponse } from "../http/kv/model.ts";
import type { HealthBody } from "../node/views.ts";
import type { restoreResponse } from "../http/admin/routes.ts";
import { SECRET_HEADER } from "../net/secret-header.ts";

export type StateBody = Static<typeof stateResponse>;
export type RingBody = Static<typeof ringResponse>;
export type GossipBody = Static<typeof gossipResponse>;
export type GetBody = Static<typeof getResponse>;
export type KeysBody = Static<typeof keysResponse>;
export type ReplicasBody = Static<typeof replicasResponse>;
export type MgetBody = Static<typeof mgetResponse>;
export type MsetBody = Static<typeof msetResponse>;
export type ScanBody = Static<typeof scanResponse>;
export type RestoreBody = Static<typeof restoreResponse>;
/** A record of a backup: a key's value under its own version. */
export type BackupRecord = ScanBody["keys"][number];
/** One write of an mset: a SET of its own, with its own TTL. */
export interface MsetEntry {
  readonly key: string;
  readonly value: string;
  readonly ttlMs?: number;
}
export type { HealthBody };

/** Bound on one call when the caller names none: well above a node's own 2 s bound on a quorum. */
export const REQUEST_TIMEOUT_MS_DEFAULT = 5_000;
/**
 * Largest answer read: a keys page holds up to 100 values of up to 1 MiB each (more if a node raised
 * VALUE_BYTES_MAX), JSON-escaped; anything longer is not a LimeDB answer.
 */
export const ANSWER_BYTES_MAX = 256 * 1024 * 1024;
/** Largest /metrics text read: a node's figures are tens of kilobytes (bounded series); a page polls every member's. */
export const METRICS_ANSWER_BYTES_MAX = 4 * 1024 * 1024;
/** The API's largest keys page (SPEC §4); `keys --all` reads in pages of this size. */
export const KEYS_PAGE_SIZE_MAX = 100;

/**
 * How a call failed. not_found: the key does not exist. rejected: the node refused the request as
 * malformed or too large (4xx). unavailable: the node answered but could not serve (5xx: too few
 * replicas, a slow quorum, a failing store). unreachable: no connection. timeout: no answer in time.
 * bad_answer: something answered that is not a LimeDB node.
 */
export type ClientErrorKind = "not_found" | "rejected" | "unavailable" | "unreachable" | "timeout" | "bad_answer";

export class ClientError extends Error {
  override readonly name = "ClientError";
  constructor(
    readonly kind: ClientErrorKind,
    message: string,
    readonly status?: number,
    /** The node's own error code (unavailable, timeout, too_large, clock_skew, …) when it answered with one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface NodeClient {
  readonly nodeUrl: string;
  /** The value and the node that coordinated the read; undefined when the key does not exist. */
  get(key: string): Promise<GetBody | undefined>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Whether the key existed. */
  del(key: string): Promise<boolean>;
  /** Up to BATCH_KEYS_MAX keys; one result per key, in order (found, not found, or that key's failure). */
  mget(keys: readonly string[]): Promise<MgetBody>;
  /** Up to BATCH_KEYS_MAX writes, each a SET of its own; one result per entry, in order. */
  mset(entries: readonly MsetEntry[]): Promise<MsetBody>;
  keys(page: number, pageSize: number): Promise<KeysBody>;
  /** One page of the cluster-wide scan from `cursor` (null: the start); its `next` is null at the end. */
  scan(cursor: string | null, limit: number, prefix?: string): Promise<ScanBody>;
  /** The cursor form: the keys after `after`, one page; `next` continues it. */
  keysAfter(after: string, pageSize: number): Promise<KeysBody>;
  state(): Promise<StateBody>;
  /** The ring parsed, and its text as sent: hashes are exact 64-bit integers that only the text keeps. */
  ring(): Promise<{ body: RingBody; text: string }>;
  gossip(): Promise<GossipBody>;
  /** The node's health; a node whose store cannot serve answers 503 with the same body, returned too. */
  health(): Promise<HealthBody>;
  replicas(key: string): Promise<ReplicasBody>;
  /** Writes backup records under their own versions through the cluster (the admin route, behind CLUSTER_SECRET). */
  restore(records: readonly BackupRecord[], secret: string): Promise<RestoreBody>;
  /** Removes a member held dead from the cluster (the admin route, behind CLUSTER_SECRET: `secret`, empty for none). */
  remove(member: string, secret: string, force?: boolean): Promise<void>;
  /** The node's figures in Prometheus text format (GET /metrics). */
  metrics(): Promise<string>;
  /** Any request, its answer as it came (a query console shows status and body); rejects only when no answer came. */
  send(method: string, path: string, body?: unknown): Promise<RawAnswer>;
}

/** An answer as it came, whatever its status. */
export interface RawAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly text: string;
}

type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** Normalises a node URL given by a user: http(s) only, no trailing slash; throws a plain Error naming what is wrong. */
export function parseNodeUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new Error(`invalid node URL "${text}": expected e.g. http://localhost:8484`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`invalid node URL "${text}": only http and https are spoken`);
  if (url.search !== "" || url.hash !== "") throw new Error(`invalid node URL "${text}": no query or fragment expected`);
  return url.toString().replace(/\/+$/, "");
}

/**
 * The calls of the node at `nodeUrl` (its identity in messages). `base` is where requests go, when not
 * to that URL: a page served by the node itself passes "" to send relative requests to its own origin.
 */
export function nodeClient(nodeUrl: string, timeoutMs: number = REQUEST_TIMEOUT_MS_DEFAULT, fetchFn: Fetch = fetch, base: string = nodeUrl): NodeClient {
  const call = (method: string, path: string, body?: string, headers: Record<string, string> = {}, bytesMax = ANSWER_BYTES_MAX) =>
    request(fetchFn, { nodeUrl, base }, timeoutMs, method, path, body, headers, bytesMax);
  const keyPath = (prefix: string, key: string) => `${prefix}/${encodeURIComponent(key)}`;

  return {
    nodeUrl,
    async get(key) {
      const answer = await call("GET", keyPath("/api/v1/get", key));
      if (isNotFound(answer)) return undefined;
      return expectJson(answer, ["value", "string"], ["nodeUrl", "string"]);
    },
    async set(key, value, ttlMs) {
      const answer = await call("POST", "/api/v1/set", JSON.stringify(ttlMs === undefined ? { key, value } : { key, value, ttlMs }));
      expectText(answer, ["OK"]);
    },
    async del(key) {
      return expectText(await call("DELETE", keyPath("/api/v1/del", key)), ["1", "0"]) === "1";
    },
    async mget(keys) {
      return expectJson(await call("POST", "/api/v1/mget", JSON.stringify({ keys })), ["results", "array"]);
    },
    async mset(entries) {
      return expectJson(await call("POST", "/api/v1/mset", JSON.stringify({ entries })), ["results", "array"], ["written", "number"], ["failed", "number"]);
    },
    async scan(cursor, limit, prefix = "") {
      const query = `limit=${limit}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}${prefix === "" ? "" : `&prefix=${encodeURIComponent(prefix)}`}`;
      return expectJson(await call("GET", `/api/v1/scan?${query}`), ["keys", "array"]);
    },
    async keys(page, pageSize) {
      const answer = await call("GET", `/api/v1/keys?page=${page}&pageSize=${pageSize}`);
      return expectJson(answer, ["keys", "array"], ["page", "number"], ["pageSize", "number"], ["total", "number"], ["totalPages", "number"]);
    },
    async keysAfter(after, pageSize) {
      const answer = await call("GET", `/api/v1/keys?after=${encodeURIComponent(after)}&pageSize=${pageSize}`);
      return expectJson(answer, ["keys", "array"], ["pageSize", "number"], ["total", "number"]);
    },
    async state() {
      return expectJson(await call("GET", "/api/v1/cluster/state"), ["nodeUrl", "string"], ["peers", "array"], ["members", "array"], ["totalNodes", "number"]);
    },
    async ring() {
      const answer = await call("GET", "/api/v1/cluster/ring");
      const body: RingBody = expectJson(answer, ["allNodes", "array"], ["shares", "object"], ["virtualNodeDistribution", "object"], ["virtualNodesPerNode", "number"]);
      return { body, text: answer.text };
    },
    async gossip() {
      return expectJson(await call("GET", "/api/v1/cluster/gossip"), ["node_url", "string"], ["node_heartbeat", "number"], ["total_peers", "number"]);
    },
    async health() {
      const answer = await call("GET", "/api/v1/health");
      // 503 is the store failing, and its body says how; every other failure is an error as usual.
      return expectJson(answer.status === 503 ? { ...answer, status: 200 } : answer, ["nodeUrl", "string"], ["status", "string"], ["storage", "object"]);
    },
    async replicas(key) {
      return expectJson(await call("GET", keyPath("/api/v1/replicas", key)), ["key", "string"], ["replicas", "array"]);
    },
    async restore(records, secret) {
      const headers: Record<string, string> = secret === "" ? {} : { [SECRET_HEADER]: secret };
      return expectJson(await call("POST", "/api/v1/admin/restore", JSON.stringify({ records }), headers), ["results", "array"], ["restored", "number"], ["kept", "number"], ["failed", "number"]);
    },
    async remove(member, secret, force = false) {
      const headers: Record<string, string> = secret === "" ? {} : { [SECRET_HEADER]: secret };
      const body = JSON.stringify(force ? { nodeUrl: member, force } : { nodeUrl: member });
      expectJson(await call("POST", "/api/v1/admin/remove", body, headers), ["status", "string"], ["nodeUrl", "string"]);
    },
    async metrics() {
      const answer = await call("GET", "/metrics", undefined, {}, METRICS_ANSWER_BYTES_MAX);
      failOn(answer);
      return answer.text;
    },
    async send(method, path, body) {
      const { status, statusText, text } = await call(method, path, body === undefined ? undefined : JSON.stringify(body));
      return { status, statusText, text };
    },
  };
}

interface Answer extends RawAnswer {
  readonly url: string;
}

async function request(
  fetchFn: Fetch,
  { nodeUrl, base }: { nodeUrl: string; base: string },
  timeoutMs: number,
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
  bytesMax: number,
): Promise<Answer> {
  const url = `${nodeUrl}${path}`;
  // One signal bounds the connection, the headers and the whole body.
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetchFn(`${base}${path}`, {
      method,
      signal,
      ...(body === undefined ? { headers } : { body, headers: { "content-type": "application/json", ...headers } }),
    });
    return { url, status: response.status, statusText: response.statusText, text: await readCapped(response, url, bytesMax) };
  } catch (error) {
    if (error instanceof ClientError) throw error;
    if (signal.aborted) throw new ClientError("timeout", `${nodeUrl} did not answer ${method} ${path} within ${timeoutMs} ms`);
    throw new ClientError("unreachable", `cannot reach ${nodeUrl}: ${describeFetchError(error)}`);
  }
}

async function readCapped(response: Response, url: string, bytesMax: number): Promise<string> {
  if (response.body === null) return "";
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > bytesMax) {
      void reader.cancel();
      throw new ClientError("bad_answer", `${url} answered more than ${bytesMax} bytes; that is not a LimeDB answer`);
    }
    text += decoder.decode(value, { stream: true });
  }
}

function describeFetchError(error: unknown): string {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  if (code === "ConnectionRefused" || code === "ECONNREFUSED") return "connection refused";
  const message = error instanceof Error ? error.message : String(error);
  return code === "" || message.includes(code) ? message : `${message} (${code})`;
}

function isNotFound(answer: Answer): boolean {
  return answer.status === 404 && errorBody(answer)?.code === "not_found";
}

/** The node's error body `{"error","code"}`, when the answer is one. */
function errorBody(answer: Answer): { error: string; code: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(answer.text);
    if (isRecord(parsed) && typeof parsed.error === "string" && typeof parsed.code === "string") return { error: parsed.error, code: parsed.code };
  } catch {
    // Not JSON: no error body; the caller reports the status.
  }
  return undefined;
}

/** Throws the ClientError an unsuccessful answer stands for. */
function failOn(answer: Answer): void {
  if (answer.status === 200) return;
  const body = errorBody(answer);
  const detail = body === undefined ? `HTTP ${answer.status}` : `${body.error} (${answer.status} ${body.code})`;
  if (body === undefined) throw new ClientError("bad_answer", `${answer.url} answered ${detail}; is it a LimeDB node?`, answer.status);
  if (body.code === "not_found") throw new ClientError("not_found", body.error, answer.status, body.code);
  if (body.code === "route_not_found" || body.code === "method_not_allowed") {
    throw new ClientError("bad_answer", `${answer.url} does not serve this: ${detail}; is it a LimeDB node?`, answer.status, body.code);
  }
  if (answer.status >= 500) throw new ClientError("unavailable", `the cluster could not serve the request: ${detail}`, answer.status, body.code);
  throw new ClientError("rejected", `the node refused the request: ${detail}`, answer.status, body.code);
}

function expectText(answer: Answer, accepted: readonly string[]): string {
  failOn(answer);
  if (!accepted.includes(answer.text)) throw new ClientError("bad_answer", `${answer.url} answered ${JSON.stringify(answer.text.slice(0, 80))}; expected ${accepted.join(" or ")}`);
  return answer.text;
}

type FieldType = "string" | "number" | "array" | "object";

/** Parses a 200 JSON answer and checks the fields the client relies on; anything else is a bad answer. */
function expectJson<T>(answer: Answer, ...fields: readonly (readonly [string, FieldType])[]): T {
  failOn(answer);
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    throw new ClientError("bad_answer", `${answer.url} answered something that is not JSON`);
  }
  if (!isRecord(parsed)) throw new ClientError("bad_answer", `${answer.url} answered JSON that is not an object`);
  for (const [name, type] of fields) {
    const value = parsed[name];
    const ok = type === "array" ? Array.isArray(value) : type === "object" ? isRecord(value) : typeof value === type;
    if (!ok) throw new ClientError("bad_answer", `${answer.url} answered without the ${type} field "${name}"`);
  }
  return parsed as T;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
