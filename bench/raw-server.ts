// The HTTP baseline: a bare Bun.serve process answering LimeDB's GET and SET shapes from a Map, nothing else.
// Run as `bun bench/raw-server.ts PORT`; it listens on 127.0.0.1 only and exits on SIGTERM.

const port = Number(Bun.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`raw-server: expected a port from 1 to 65535, got "${Bun.argv[2] ?? ""}"`);
  process.exit(2);
}

const nodeUrl = `http://127.0.0.1:${port}`;
const values = new Map<string, string>();

function isSetBody(body: unknown): body is { key: string; value: string } {
  const b = body as { key?: unknown; value?: unknown } | null;
  return typeof b === "object" && b !== null && typeof b.key === "string" && b.key !== "" && typeof b.value === "string";
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  routes: {
    "/api/v1/health": () => Response.json({ nodeUrl, service: "raw-bun-serve", status: "ok" }),
    "/api/v1/get/:key": (request) => {
      const value = values.get(request.params.key);
      return value === undefined ? Response.json({ error: "key not found", code: "not_found" }, { status: 404 }) : Response.json({ value, nodeUrl });
    },
    "/api/v1/set": {
      POST: async (request) => {
        const body: unknown = await request.json().catch(() => undefined);
        if (!isSetBody(body)) return Response.json({ error: "the body is not a set request", code: "bad_request" }, { status: 400 });
        values.set(body.key, body.value);
        return new Response("OK");
      },
    },
  },
  fetch: () => Response.json({ error: "no route", code: "route_not_found" }, { status: 404 }),
});

process.on("SIGTERM", () => {
  void server.stop(true).then(() => process.exit(0));
});
