// Expected store failures, typed by code so callers can map them without parsing messages.

export type StoreErrorCode = "corrupt" | "io" | "closed" | "too_large";

/** Its message names the store's file, never a key or value: it reaches the log and a client's error answer. */
export class StoreError extends Error {
  override readonly name = "StoreError";
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
