// Reads a byte stream (a request body, a peer's answer) with a cap on its bytes and, when given, a deadline.

export type BoundedReadFailure = "too_large" | "timeout";

/** Why a bounded read stopped early; `bytes` is how many had arrived when it did. */
export class BoundedReadError extends Error {
  override readonly name = "BoundedReadError";
  constructor(
    readonly kind: BoundedReadFailure,
    readonly bytes: number,
    readonly bytesMax: number,
  ) {
    super(kind === "too_large" ? `${bytes} bytes or more is over the limit of ${bytesMax} bytes` : "the bytes did not all arrive before the deadline");
  }
}

export interface BoundedReadOptions {
  readonly bytesMax: number;
  /** Milliseconds the whole read may take; left out, the caller's own signal or timeout bounds it. */
  readonly deadlineMs?: number;
}

/**
 * The stream's bytes, refused (BoundedReadError "too_large") as soon as they pass `bytesMax` and
 * ("timeout") when they have not all arrived within `deadlineMs`. The stream is cancelled either way,
 * so a sender that stalls or floods holds nothing of this process afterwards.
 */
export async function readBounded(stream: ReadableStream<Uint8Array> | null, options: BoundedReadOptions): Promise<Uint8Array> {
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  let timer: Timer | undefined;
  const deadline =
    options.deadlineMs === undefined
      ? undefined
      : new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), options.deadlineMs);
        });
  try {
    for (;;) {
      const next = deadline === undefined ? await reader.read() : await Promise.race([reader.read(), deadline]);
      if (next === "timeout") throw new BoundedReadError("timeout", received, options.bytesMax);
      if (next.done) break;
      received += next.value.byteLength;
      if (received > options.bytesMax) throw new BoundedReadError("too_large", received, options.bytesMax);
      chunks.push(next.value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** The stream as UTF-8 text, with the same bounds. */
export async function readBoundedText(stream: ReadableStream<Uint8Array> | null, options: BoundedReadOptions): Promise<string> {
  return new TextDecoder().decode(await readBounded(stream, options));
}

/**
 * The body of a request or of a peer's answer as text: refused from its declared Content-Length before a
 * byte is read, otherwise read within the bounds. A declared length within the cap bounds the read already
 * (HTTP framing stops the body there), and reading it whole is much faster than pulling chunks, so only a
 * body without a length is counted as it comes; the deadline, when given, covers both.
 */
export function readBodyText(message: Request | Response, options: BoundedReadOptions): Promise<string> {
  return readBody(message, options, () => message.text(), () => readBoundedText(message.body, options));
}

/** The body as its bytes, with the same bounds as readBodyText. */
export function readBodyBytes(message: Request | Response, options: BoundedReadOptions): Promise<Uint8Array> {
  return readBody(message, options, () => message.bytes(), () => readBounded(message.body, options));
}

async function readBody<T>(message: Request | Response, options: BoundedReadOptions, whole: () => Promise<T>, counted: () => Promise<T>): Promise<T> {
  const declared = Number(message.headers.get("content-length") ?? Number.NaN);
  if (declared > options.bytesMax) {
    await message.body?.cancel().catch(() => undefined);
    throw new BoundedReadError("too_large", declared, options.bytesMax);
  }
  if (!Number.isSafeInteger(declared)) return counted();
  return options.deadlineMs === undefined ? whole() : withinDeadline(whole(), options);
}

/** The read, or a "timeout" BoundedReadError once the deadline passes; the abandoned read ends when its connection does. */
async function withinDeadline<T>(read: Promise<T>, { bytesMax, deadlineMs }: BoundedReadOptions): Promise<T> {
  // The connection's end rejects the abandoned read; that rejection is expected, not unhandled.
  read.catch(() => undefined);
  let timer: Timer | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BoundedReadError("timeout", 0, bytesMax)), deadlineMs);
  });
  try {
    return await Promise.race([read, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
