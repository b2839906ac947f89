// Size limits checked again where data is stored, whatever the edge already checked.
import { StoreError } from "./errors.ts";
import type { StoredRecord } from "./record.ts";

/** SPEC §4: keys are at most 1,024 UTF-8 bytes. */
export const KEY_BYTES_MAX = 1024;

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

export function assertWithinLimits(record: StoredRecord, valueBytesMax: number): void {
  if (record.key === "" || utf8Bytes(record.key) > KEY_BYTES_MAX) {
    throw new StoreError("too_large", `key must be 1 to ${KEY_BYTES_MAX} UTF-8 bytes`);
  }
  if (utf8Bytes(record.value) > valueBytesMax) {
    throw new StoreError("too_large", `value is over ${valueBytesMax} UTF-8 bytes`);
  }
}
