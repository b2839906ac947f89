// Checks of client input the coordinator repeats whatever the edge already checked (SPEC §4 limits).
import { KEY_BYTES_MAX, utf8Bytes } from "../store/limits.ts";
import { NodeError } from "./errors.ts";

/** The longest TTL accepted: ten years, far past any cache use and well inside safe integers. */
export const TTL_MS_MAX = 10 * 365 * 24 * 3600 * 1000;
/** SPEC §4: /keys pages hold at most 100 keys. */
export const PAGE_SIZE_MAX = 100;
/** Page numbers stop here; it keeps offsets exact and rejects absurd values clearly. */
export const PAGE_MAX = 1_000_000_000;

/**
 * Whether `text` may take more than `bytesMax` UTF-8 bytes: a UTF-16 unit takes at most three, so a short text is
 * within the limit without counting (counting is a native call, a sixth of a memory GET's JavaScript time).
 */
function mayExceed(text: string, bytesMax: number): boolean {
  return text.length * 3 > bytesMax;
}

export function checkKey(key: string): void {
  if (key === "") throw new NodeError("bad_request", "key must not be empty");
  // URL parsers drop "." and ".." path segments (even as %2E), so such a key could be set but never read back.
  if (key === "." || key === "..") throw new NodeError("bad_request", `key "${key}" cannot be addressed in a URL path; choose another key`);
  // A lone surrogate has no UTF-8 form: SQLite would store it as U+FFFD and merge it with that key.
  if (!key.isWellFormed()) throw new NodeError("bad_request", "key must be valid Unicode with no lone surrogate");
  if (mayExceed(key, KEY_BYTES_MAX) && utf8Bytes(key) > KEY_BYTES_MAX) throw new NodeError("too_large", `key is over the limit of ${KEY_BYTES_MAX} UTF-8 bytes`);
}

export function checkValue(value: string, valueBytesMax: number): void {
  if (!value.isWellFormed()) throw new NodeError("bad_request", "value must be valid Unicode with no lone surrogate");
  if (mayExceed(value, valueBytesMax) && utf8Bytes(value) > valueBytesMax) throw new NodeError("too_large", `value is over the limit of ${valueBytesMax} UTF-8 bytes`);
}

export function checkTtl(ttlMs: number | undefined): void {
  if (ttlMs !== undefined && !(Number.isSafeInteger(ttlMs) && ttlMs >= 1 && ttlMs <= TTL_MS_MAX)) {
    throw new NodeError("bad_request", `ttlMs must be an integer from 1 to ${TTL_MS_MAX}`);
  }
}

export function checkPage(page: number, pageSize: number): void {
  if (!(Number.isSafeInteger(page) && page >= 1 && page <= PAGE_MAX)) throw new NodeError("bad_request", `page must be an integer from 1 to ${PAGE_MAX}`);
  if (!(Number.isSafeInteger(pageSize) && pageSize >= 1 && pageSize <= PAGE_SIZE_MAX)) {
    throw new NodeError("bad_request", `pageSize must be an integer from 1 to ${PAGE_SIZE_MAX}`);
  }
}
