// Reads a JSON body within a byte limit, a deadline and a nesting depth, refusing it as soon as one is passed.
import { BoundedReadError, readBodyBytes, readBodyText } from "../net/bounded-read.ts";
import { NodeError } from "../node/errors.ts";

/**
 * The whole body must arrive within this, as Bun already closes a connection silent for 10 s between
 * requests. A value at the 1 MiB default limit then needs about 100 KiB/s (the worst legal body, every
 * character escaped, about 600 KiB/s), which a client of a database on its network has; a sender that
 * stalls half-way holds its socket and buffered bytes for at most this long instead of for ever.
 */
export const BODY_READ_TIMEOUT_MS = 10_000;

/**
 * Arrays and objects nested deeper than this are refused. Every wire message is at most five levels
 * deep (a gossip digest of members with versions); past a few thousand, validating or re-serialising
 * the value overflows the stack, so a deep body would become a 500 after seconds of work.
 */
export const JSON_DEPTH_MAX = 32;

/**
 * Bytes of request bodies one node reads and parses at once (their declared lengths, or their caps when they
 * declare none); a large body that would pass it while others are read is refused with 503. Each body is within
 * its route's cap (an mset's is about 100 MB at the default value size), but 20 of them read together took a node
 * to 2 GB. A body of less than COUNTED_BODY_BYTES_MIN is not counted, so small requests never wait on large ones.
 */
export const BODY_BYTES_IN_FLIGHT_MAX = 256 * 1024 * 1024;
export const COUNTED_BODY_BYTES_MIN = 1024 * 1024;

/** The bytes of large bodies being read at once, against a bound; one body is always taken when none is. */
export class BodyBudget {
  private inFlight = 0;

  constructor(readonly bytesMax: number) {}

  get bytes(): number {
    return this.inFlight;
  }

  /** Runs `read` holding `bytes` of the budget, or refuses (503) when they do not fit beside those held. */
  within<T>(bytes: number, read: () => Promise<T>): Promise<T> {
    if (bytes < COUNTED_BODY_BYTES_MIN) return read();
    if (this.inFlight > 0 && this.inFlight + bytes > this.bytesMax) {
      return Promise.reject(new NodeError("unavailable", `this node is reading ${this.inFlight} bytes of request bodies already, and takes at most ${this.bytesMax} at once; send this one again shortly`));
    }
    this.inFlight += bytes;
    let reading: Promise<T>;
    try {
      reading = read();
    } catch (error) {
      reading = Promise.reject(error);
    }
    return reading.finally(() => {
      this.inFlight -= bytes;
    });
  }
}

/** The budget every request body of this process is read within. */
export const NODE_BODY_BUDGET = new BodyBudget(BODY_BYTES_IN_FLIGHT_MAX);

/** What a body holds of the budget: its declared length within the cap, or the cap when it declares none. */
function budgetedBytes(request: Request, bytesMax: number): number {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  return Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, bytesMax) : bytesMax;
}

/** The body as text within the limit and the deadline; past either, the NodeError a client is answered with (413, 408). */
export function readBody(request: Request, bytesMax: number, deadlineMs = BODY_READ_TIMEOUT_MS, budget = NODE_BODY_BUDGET): Promise<string> {
  return budget.within(budgetedBytes(request, bytesMax), () => refusedPast(readBodyText(request, { bytesMax, deadlineMs }), bytesMax, deadlineMs));
}

/** The body as its bytes, as readBody. */
export function readBodyBytesWithin(request: Request, bytesMax: number, deadlineMs = BODY_READ_TIMEOUT_MS, budget = NODE_BODY_BUDGET): Promise<Uint8Array> {
  return budget.within(budgetedBytes(request, bytesMax), () => refusedPast(readBodyBytes(request, { bytesMax, deadlineMs }), bytesMax, deadlineMs));
}

async function refusedPast<T>(read: Promise<T>, bytesMax: number, deadlineMs: number): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (!(error instanceof BoundedReadError)) throw error;
    throw error.kind === "too_large" ? tooLarge(error.bytes, bytesMax) : timedOut(deadlineMs);
  }
}

/** The body parsed as JSON, within readBody's bounds; the budget is held through the parse too. */
export function readJsonBody(request: Request, bytesMax: number, deadlineMs = BODY_READ_TIMEOUT_MS, budget = NODE_BODY_BUDGET): Promise<unknown> {
  return budget.within(budgetedBytes(request, bytesMax), async () => parsedJson(await refusedPast(readBodyText(request, { bytesMax, deadlineMs }), bytesMax, deadlineMs)));
}

function parsedJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new NodeError("bad_request", text.trim() === "" ? "the body is empty; expected a JSON object" : "the body is not valid JSON");
  }
  if (!withinDepth(value, JSON_DEPTH_MAX)) throw new NodeError("bad_request", `the body nests arrays and objects more than ${JSON_DEPTH_MAX} deep`);
  return value;
}

/**
 * Whether no array or object in the value is nested deeper than `depthMax`. It stops at the limit, so
 * its recursion is bounded whatever arrives, and a shallow body (every ordinary one) costs one pass.
 */
export function withinDepth(value: unknown, depthMax: number): boolean {
  if (typeof value !== "object" || value === null) return true;
  if (depthMax === 0) return false;
  const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
  for (const child of children) if (!withinDepth(child, depthMax - 1)) return false;
  return true;
}

function timedOut(deadlineMs: number): NodeError {
  return new NodeError("request_timeout", `the request body did not arrive within ${deadlineMs} ms`);
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

/** Headers of a 408: the rest of a late body may still come, and only a closed connection ends it. */
export const REQUEST_TIMEOUT_HEADERS: Readonly<Record<string, string>> = { connection: "close" };
