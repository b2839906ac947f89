// The byte budget of a key page, applied the same way by every backend.
import type { KeyEntry } from "./record.ts";
import { utf8Bytes } from "./limits.ts";

/** What an entry costs against a page's budget: its key and value in UTF-8 bytes. */
export function entryBytes(entry: KeyEntry): number {
  return utf8Bytes(entry.key) + utf8Bytes(entry.value);
}

/**
 * Up to `limit` entries, in order, while their bytes stay within `bytesMax`; the first entry is always
 * taken, so a page moves forward even past a value larger than the budget. It pulls entries one at a
 * time and stops at the first that does not fit, so a backend never reads a page whole past its budget.
 */
export function takeWithinBytes(entries: Iterable<KeyEntry>, limit: number, bytesMax: number): KeyEntry[] {
  const taken: KeyEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (taken.length >= limit) break;
    const cost = entryBytes(entry);
    if (taken.length > 0 && bytes + cost > bytesMax) break;
    taken.push(entry);
    bytes += cost;
  }
  return taken;
}
