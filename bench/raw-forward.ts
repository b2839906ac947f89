// The forwarding floor: the least one hop costs in Bun on this machine. A bare Bun.serve "front" answers the keys it
// owns (the same ring as LimeDB's, built over both URLs) from a Map and sends the rest of each event-loop turn's GETs
// and SETs in one JSON message over one Bun WebSocket to a bare Bun.serve "owner", which answers them, in order, in
// one message. No request ids, deadlines, secret, versions, schema checks or metrics: what LimeDB's bus adds to
// this is its own cost. Listens on 127.0.0.1 only and exits on SIGTERM.
//   bun bench/raw-forward.ts owner PORT
//   bun bench/raw-forward.ts front PORT OWNER_PORT
import { VIRTUAL_NODES_DEFAULT } from "../src/config/settings.ts";
import { buildRing, ownerOf } from "../src/ring/ring.ts";

/** What one forwarded request asks: a GET of a key, or a SET of a key to a value. */
type Op = readonly [key: string] | readonly [key: string, value: string];

const [role, portText, ownerPortText] = Bun.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || port < 1 || port > 65535 || (role !== "owner" && role !== "front")) {
  console.error("usage: bun bench/raw-forward.ts owner PORT | front PORT OWNER_PORT");
  process.exit(2);
}
const nodeUrl = `http://127.0.0.1:${port}`;
const values = new Map<string, string>();

const notFound = () => Response.json({ error: "key not found", code: "not_found" }, { status: 404 });
const keyOf = (request: Request) => request.url.slice(request.url.lastIndexOf("/") + 1);
const setBody = async (request: Request): Promise<{ key: string; value: string } | undefined> => {
  const body = (await request.json().catch(() => undefined)) as { key?: unknown; value?: unknown } | undefined;
  return typeof body?.key === "string" && body.key !== "" && typeof body.value === "string" ? { key: body.key, value: body.value } : undefined;
};
const badSet = () => Response.json({ error: "the body is not a set request", code: "bad_request" }, { status: 400 });
const noRoute = () => Response.json({ error: "no route", code: "route_not_found" }, { status: 404 });
/** A GET of a key this server holds, answered as a node answers it. */
const ownAnswer = (key: string) => {
  const value = values.get(key);
  return value === undefined ? notFound() : Response.json({ value, nodeUrl });
};
const health = () => Response.json({ nodeUrl, service: `raw-forward-${role}`, status: "ok" });

/** The owner: one message of ops in, one array of answers out (a value or null for a GET, "OK" for a SET). */
function owner(): void {
  Bun.serve({
    hostname: "127.0.0.1",
    port,
    routes: { "/api/v1/health": health, "/api/v1/get/:key": (request) => ownAnswer(keyOf(request)) },
    fetch: (request, server) => (server.upgrade(request) ? undefined : noRoute()),
    websocket: {
      perMessageDeflate: false,
      message(ws, message) {
        const ops = JSON.parse(String(message)) as Op[];
        ws.send(
          JSON.stringify(
            ops.map((op) => {
              if (op.length === 1) return values.get(op[0]) ?? null;
              values.set(op[0], op[1]);
              return "OK";
            }),
          ),
        );
      },
    },
  });
}

/** The front: its own keys from its Map, the owner's in the turn's one message. */
async function front(ownerPort: number): Promise<void> {
  const ownerUrl = `http://127.0.0.1:${ownerPort}`;
  const ring = buildRing([nodeUrl, ownerUrl], VIRTUAL_NODES_DEFAULT);
  const ws = new WebSocket(`ws://127.0.0.1:${ownerPort}/bus`);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  ws.addEventListener("close", () => process.exit(1));
  let ops: Op[] = [];
  let waiting: ((answer: string | null) => void)[] = [];
  /** The answers' takers of each message sent, oldest first: the owner answers messages in order. */
  const sent: ((answer: string | null) => void)[][] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    sent.push(waiting);
    ws.send(JSON.stringify(ops));
    ops = [];
    waiting = [];
  };
  ws.addEventListener("message", (event) => {
    const answers = JSON.parse(String(event.data)) as (string | null)[];
    const takers = sent.shift() ?? [];
    for (let i = 0; i < takers.length; i++) takers[i]!(answers[i] ?? null);
  });
  const forward = (op: Op, answer: (value: string | null) => Response) =>
    new Promise<Response>((resolve) => {
      ops.push(op);
      waiting.push((value) => resolve(answer(value)));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  Bun.serve({
    hostname: "127.0.0.1",
    port,
    routes: {
      "/api/v1/health": health,
      "/api/v1/get/:key": (request) => {
        const key = keyOf(request);
        if (ownerOf(ring, key) === ownerUrl) return forward([key], (value) => (value === null ? notFound() : Response.json({ value, nodeUrl: ownerUrl })));
        return ownAnswer(key);
      },
      "/api/v1/set": {
        POST: async (request) => {
          const body = await setBody(request);
          if (body === undefined) return badSet();
          if (ownerOf(ring, body.key) === ownerUrl) return forward([body.key, body.value], () => new Response("OK"));
          values.set(body.key, body.value);
          return new Response("OK");
        },
      },
    },
    fetch: noRoute,
  });
}

if (role === "owner") owner();
else await front(Number(ownerPortText));
process.on("SIGTERM", () => process.exit(0));
