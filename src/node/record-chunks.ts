// Splits record lists into requests of bounded count and bounded bytes, so one request never grows huge.
import { utf8Bytes } from "../store/limits.ts";
import type { StoredRecord } from "../store/record.ts";
import { RECORDS_PER_REQUEST_MAX } from "./record-wire.ts";

/** Key and value bytes per request; JSON escaping can multiply them, which the replica body limit allows for. */
export const RECORD_BYTES_PER_REQUEST_MAX = 4 * 1024 * 1024;

export function chunkRecords(records: readonly StoredRecord[]): StoredRecord[][] {
  const chunks: StoredRecord[][] = [];
  let current: StoredRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = utf8Bytes(record.key) + utf8Bytes(record.value);
    if (current.length > 0 && (current.length >= RECORDS_PER_REQUEST_MAX || bytes + size > RECORD_BYTES_PER_REQUEST_MAX)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
