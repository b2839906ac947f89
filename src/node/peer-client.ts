// The node's outgoing HTTP: gossip and the direct endpoints of its peers, each call with a timeout.
import type { Ack, Ack2, GossipTransport, Syn } from "../membership/messages.ts";
import { isAck } from "../membership/schema.ts";
import { NodeError } from "./errors.ts";

/** The header that carries CLUSTER_SECRET on internal requests. */
export const SECRET_HEADER = "x-limedb-secret";

export interface PeerClientOptions {
  readonly secret: string;
  /** Bound on a forwarded request; past it the client gets 504. */
  readonly forwardTimeoutMs: number;
  /** Bound on one gossip exchange; a slow peer only delays news to the next round. */
  readonly gossipTimeoutMs: number;
  readonly fetch?: typeof fetch;
}

interface ErrorBody {
  error?: unknown;
  code?: unknown;
}

export class PeerClient implements GossipTransport {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: PeerClientOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  async syn(target: string, message: Syn): Promise<Ack | undefined> {
    try {
      const response = await this.send(target, "/gossip", { method: "POST", body: JSON.stringify(message) }, this.options.gossipTimeoutMs);
      if (!response.ok) return undefined;
      const body: unknown = await response.json();
      return isAck(body) ? body : undefined;
    } catch {
      return undefined;
    }
  }

  async ack2(target: string, message: Ack2): Promise<void> {
    try {
      const response = await this.send(target, "/gossip", { method: "POST", body: JSON.stringify(message) }, this.options.gossipTimeoutMs);
      await response.arrayBuffer();
    } catch {
      // A lost ACK2 is repaired by the next round.
    }
  }

  /** The owner's value, or undefined when it holds none. */
  async getDirect(target: string, key: string): Promise<{ value: string; nodeUrl: string } | undefined> {
    const response = await this.forward(target, `/api/v1/direct/get/${encodeURIComponent(key)}`, { method: "GET" });
    if (response.status === 404) {
      await this.expectCode(response, target, "not_found");
      return undefined;
    }
    const body = (await this.readJson(response, target)) as { value?: unknown; nodeUrl?: unknown };
    if (typeof body.value !== "string" || typeof body.nodeUrl !== "string") throw garbage(target);
    return { value: body.value, nodeUrl: body.nodeUrl };
  }

  async setDirect(target: string, key: string, value: string, ttlMs: number | undefined): Promise<void> {
    const response = await this.forward(target, "/api/v1/set/direct", { method: "POST", body: JSON.stringify({ key, value, ttlMs }) });
    if ((await this.readText(response, target)) !== "OK") throw garbage(target);
  }

  async delDirect(target: string, key: string): Promise<boolean> {
    const response = await this.forward(target, `/api/v1/direct/del/${encodeURIComponent(key)}`, { method: "DELETE" });
    const text = await this.readText(response, target);
    if (text !== "1" && text !== "0") throw garbage(target);
    return text === "1";
  }

  /** Sends a forwarded request; a peer that is down is 503, one that is too slow is 504. */
  private async forward(target: string, path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.send(target, path, init, this.options.forwardTimeoutMs);
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name === "TimeoutError" || name === "AbortError") {
        throw new NodeError("timeout", `owner ${target} did not answer within ${this.options.forwardTimeoutMs} ms; the write may or may not have been applied`, { cause: error });
      }
      throw new NodeError("unavailable", `owner ${target} is unreachable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  private send(target: string, path: string, init: RequestInit, timeoutMs: number): Promise<Response> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.options.secret !== "") headers[SECRET_HEADER] = this.options.secret;
    return this.fetch(`${target}${path}`, { ...init, headers, signal: AbortSignal.timeout(timeoutMs) });
  }

  /** A peer's error answer passes through with its code when it is one a client could get anyway. */
  private async failure(response: Response, target: string): Promise<never> {
    const body = (await response.json().catch(() => ({}))) as ErrorBody;
    const message = typeof body.error === "string" ? body.error : `owner ${target} answered ${response.status}`;
    if (response.status === 400 && body.code === "bad_request") throw new NodeError("bad_request", message);
    if (response.status === 413) throw new NodeError("too_large", message);
    if (response.status === 401) throw new NodeError("unavailable", `owner ${target} refused this node's cluster secret; check CLUSTER_SECRET on both`);
    throw new NodeError("unavailable", `owner ${target} failed: ${message}`);
  }

  private async expectCode(response: Response, target: string, code: string): Promise<void> {
    const body = (await response.json().catch(() => ({}))) as ErrorBody;
    if (body.code !== code) throw new NodeError("unavailable", `owner ${target} answered ${response.status} without a known error`);
  }

  private async readJson(response: Response, target: string): Promise<unknown> {
    if (!response.ok) return this.failure(response, target);
    return response.json().catch(() => {
      throw garbage(target);
    });
  }

  private async readText(response: Response, target: string): Promise<string> {
    if (!response.ok) return this.failure(response, target);
    return response.text().catch(() => {
      throw garbage(target);
    });
  }
}

function garbage(target: string): NodeError {
  return new NodeError("unavailable", `owner ${target} answered something that is not a LimeDB reply`);
}
