// The node's one listening socket: Bun.serve carrying the bus's WebSocket (on BUS_PATH) and the HTTP app.
import type { BunRequest, Server } from "bun";
import { BUS_PATH, busWebSocket, newBusConnection, UnprovenConnections, type BusConnection, type BusServerOptions } from "../bus/bus-server.ts";
import { errorResponse } from "./errors.ts";
import { FAST_GET_ROUTE } from "./kv/fast-get.ts";
import { splitRequestUrl } from "./origins.ts";

/** Bun refuses a declared body beyond this itself; anything between a route's limit and this gets our JSON 413. */
export const BUN_BODY_BYTES_MAX = 1024 * 1024 * 1024;

export interface ServeOptions {
  readonly port: number;
  readonly hostname: string;
  /** The HTTP app: every request that is not the bus's upgrade. */
  readonly handle: (request: Request) => Response | Promise<Response>;
  /**
   * Tried in order before the app: each answers the hot requests it takes itself (at once, or through a promise that
   * never rejects: it hands the app what it cannot answer itself), or returns undefined for the app to answer.
   */
  readonly fast?: readonly ((request: Request) => Response | Promise<Response> | undefined)[];
  /**
   * The hot read, on Bun's own router (which hands it the key): it answers every request to its route, itself or
   * through the app. Left out, the app answers those too.
   */
  readonly get?: (request: BunRequest<typeof FAST_GET_ROUTE>) => Response | Promise<Response>;
  readonly bus: BusServerOptions;
  /** Whether a Host header names this node (the DNS-rebinding check every route applies). */
  readonly hostAllowed: (host: string) => boolean;
}

/**
 * The bus's upgrade: only from a program, never a browser (a page's WebSocket always sends Origin, and would
 * otherwise reach the bus from any site), and only for a Host that names this node. Undefined when upgraded.
 */
export function upgradeBus(request: Request, server: Server<BusConnection>, hostAllowed: (host: string) => boolean, unproven?: UnprovenConnections): Response | undefined {
  if (request.headers.has("origin")) return errorResponse("forbidden", "the bus takes no request from a web page");
  const host = request.headers.get("host");
  if (host === null || !hostAllowed(host)) return errorResponse("forbidden", "this node does not answer to the host this request names");
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return errorResponse("bad_request", "the bus speaks WebSocket only");
  const address = server.requestIP(request)?.address ?? "";
  if (unproven !== undefined && !unproven.take(address)) {
    return errorResponse("unavailable", "too many bus connections from this address have not proved the cluster secret yet; try again");
  }
  const place = unproven === undefined ? undefined : { connections: unproven, address };
  if (server.upgrade(request, { data: newBusConnection(place) })) return undefined;
  if (place !== undefined) unproven!.release(address);
  return errorResponse("bad_request", "the WebSocket upgrade failed");
}

export function serveNode(options: ServeOptions): Server<BusConnection> {
  const unproven = new UnprovenConnections();
  return Bun.serve<BusConnection>({
    port: options.port,
    hostname: options.hostname,
    // A port already in use must stop the start: SO_REUSEPORT would silently split its traffic between two stores.
    reusePort: false,
    maxRequestBodySize: BUN_BODY_BYTES_MAX,
    routes: options.get === undefined ? {} : { [FAST_GET_ROUTE]: options.get },
    fetch(request, server) {
      // A cheap test first: nearly every request is not the bus's.
      if (request.url.endsWith(BUS_PATH) && splitRequestUrl(request.url).pathname === BUS_PATH) return upgradeBus(request, server, options.hostAllowed, unproven);
      for (const path of options.fast ?? []) {
        const quick = path(request);
        if (quick !== undefined) return quick;
      }
      return options.handle(request);
    },
    websocket: busWebSocket(options.bus),
  });
}
