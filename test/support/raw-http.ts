// One HTTP/1.1 request written byte for byte on a TCP socket: headers fetch() would rewrite (Host) reach the node as sent.

/** Bound on one raw exchange; a node that never answers fails the test instead of stalling it. */
const RAW_REQUEST_TIMEOUT_MS = 5_000;

export interface RawAnswer {
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: string;
}

/** Sends `method path` with exactly these headers (and Connection: close) and reads the whole answer. */
export async function rawRequest(port: number, method: string, path: string, headers: Record<string, string>, body = ""): Promise<RawAnswer> {
  const head = [`${method} ${path} HTTP/1.1`, ...Object.entries({ ...headers, "content-length": String(Buffer.byteLength(body)), connection: "close" }).map(([n, v]) => `${n}: ${v}`)];
  return parseAnswer(await rawExchange(port, `${head.join("\r\n")}\r\n\r\n${body}`));
}

/** Writes `text` on a new connection and resolves with all the node sent back once it closed ("" for no answer). */
export async function rawExchange(port: number, text: string): Promise<string> {
  const chunks: Buffer[] = [];
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_socket, data) => void chunks.push(Buffer.from(data)),
      close: () => resolve(),
      error: (_socket, error) => reject(error),
    },
  });
  socket.write(text);
  const timer = setTimeout(() => reject(new Error(`no answer nor close within ${RAW_REQUEST_TIMEOUT_MS} ms`)), RAW_REQUEST_TIMEOUT_MS);
  try {
    await promise;
  } finally {
    clearTimeout(timer);
    socket.end();
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function parseAnswer(text: string): RawAnswer {
  const split = text.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = text.slice(0, split).split("\r\n");
  const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
  const raw = text.slice(split + 4);
  // Bun chunks answers whose length it does not know in advance; the bodies read here are short.
  const body = headers.get("transfer-encoding") === "chunked" ? dechunk(raw) : raw;
  return { status: Number(statusLine.split(" ")[1]), headers, body };
}

function dechunk(raw: string): string {
  let out = "";
  let rest = raw;
  for (;;) {
    const end = rest.indexOf("\r\n");
    const size = Number.parseInt(rest.slice(0, end), 16);
    if (!(size > 0)) return out;
    out += rest.slice(end + 2, end + 2 + size);
    rest = rest.slice(end + 2 + size + 2);
  }
}
