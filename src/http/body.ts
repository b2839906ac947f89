// Reads a JSON body with a byte limit, stopping as soon as it is exceeded rather than reading it whole.
import { NodeError } from "../node/errors.ts";

export async function readJsonBody(request: Request, bytesMax: number): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > bytesMax) throw tooLarge(declared, bytesMax);
  // A declared length within the limit bounds the read already (HTTP framing stops the body there), and
  // reading it whole is much faster than pulling chunks; only a body without a length is counted as it comes.
  const text = Number.isSafeInteger(declared) ? await request.text() : await readCapped(request, bytesMax);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new NodeError("bad_request", text.trim() === "" ? "the body is empty; expected a JSON object" : "the body is not valid JSON");
  }
}

async function readCapped(request: Request, bytesMax: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let received = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > bytesMax) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(received, bytesMax);
      }
      chunks.push(value);
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}

function tooLarge(bytes: number, bytesMax: number): NodeError {
  return new NodeError("too_large", `request body of ${bytes} bytes or more is over the limit of ${bytesMax} bytes`);
}

/**
 * Elysia's `parse` for JSON routes: the capped reader always returns a body or throws, so "json" never
 * runs; it is listed only because the OpenAPI generator documents no request body for a parser it cannot name.
 */
export function cappedJson(bytesMax: number) {
  return [({ request }: { request: Request }) => readJsonBody(request, bytesMax), "json" as const];
}

/** Set explicitly: a bare string gets text/plain from Bun.serve but from no other adapter, app.handle included. */
export const TEXT_PLAIN = "text/plain; charset=utf-8";
