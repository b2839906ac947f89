// Caps on the bytes of each kind of answer a peer sends back: past its cap an answer is not a LimeDB reply.
import { NODE_URL_CHARS_MAX } from "../membership/schema.ts";
import { KEY_BYTES_MAX } from "../store/limits.ts";
import { GROUPS, GROUPS_PER_REQUEST_MAX, SEGMENTS_PER_GROUP } from "./anti-entropy.ts";
import { RECORD_BYTES_PER_REQUEST_MAX } from "./record-chunks.ts";
import { KEYS_PER_REQUEST_MAX, RECORDS_PER_REQUEST_MAX } from "./record-wire.ts";

/** JSON may write one byte of a string as six (\u0000), so a string's bytes are bounded by six times its own. */
const JSON_ESCAPE_FACTOR_MAX = 6;

/**
 * Everything of one wire record besides its key and value: the field names, two integers per
 * version and expiry, a flag, and the version's node URL, itself escaped up to six times.
 */
const RECORD_ENVELOPE_BYTES_MAX = JSON_ESCAPE_FACTOR_MAX * NODE_URL_CHARS_MAX + 1024;

/** An error answer is {error, code}: one sentence and one word. */
export const ERROR_ANSWER_BYTES_MAX = 4 * 1024;

/** Direct set and delete answer one word: "OK", "1" or "0". */
export const WORD_ANSWER_BYTES_MAX = 64;

/** A put answers one pair of booleans per record, about 40 bytes each, for at most RECORDS_PER_REQUEST_MAX records. */
export const OUTCOMES_ANSWER_BYTES_MAX = 1024 + RECORDS_PER_REQUEST_MAX * 64;

/** Keys and values one getEach answer carries whole, in UTF-16 units; its first record always, however large. */
export const MERGED_ANSWER_CHARS_MAX = 512 * 1024;

/** A refusal's code: one word, in UTF-16 units. */
export const ERROR_CODE_CHARS_MAX = 32;
/** A refusal's message in a reply, in UTF-16 units: one sentence; a longer one (a path, a system error) is cut. */
export const ERROR_MESSAGE_CHARS_MAX = 512;

/**
 * A put of each record answers its outcome or its refusal per record, for at most RECORDS_PER_REQUEST_MAX records:
 * a refusal's code and message escaped up to six times over, and its field names and wall time.
 */
export const RESULTS_ANSWER_BYTES_MAX = 1024 + RECORDS_PER_REQUEST_MAX * (JSON_ESCAPE_FACTOR_MAX * (ERROR_CODE_CHARS_MAX + ERROR_MESSAGE_CHARS_MAX) + 128);

/** A digest read of each key answers a version (two integers and a node URL, escaped) or a refusal per key, for at most KEYS_PER_REQUEST_MAX keys. */
export const VERSIONS_ANSWER_BYTES_MAX = 1024 + KEYS_PER_REQUEST_MAX * (JSON_ESCAPE_FACTOR_MAX * Math.max(NODE_URL_CHARS_MAX, ERROR_CODE_CHARS_MAX + ERROR_MESSAGE_CHARS_MAX) + 128);

/**
 * A read of each key: whole records up to MERGED_ANSWER_CHARS_MAX of keys and values (the first one always, however
 * large), each with its envelope, escaped; or a refusal or null per key, for at most KEYS_PER_REQUEST_MAX keys.
 */
export function recordsAnswerBytesMax(valueBytesMax: number): number {
  return recordAnswerBytesMax(valueBytesMax) + JSON_ESCAPE_FACTOR_MAX * MERGED_ANSWER_CHARS_MAX + KEYS_PER_REQUEST_MAX * (RECORD_ENVELOPE_BYTES_MAX + JSON_ESCAPE_FACTOR_MAX * (KEY_BYTES_MAX + ERROR_CODE_CHARS_MAX + ERROR_MESSAGE_CHARS_MAX));
}

/** Differing groups: at most GROUPS group numbers, each a few digits and a comma. */
export const GROUPS_ANSWER_BYTES_MAX = 1024 + GROUPS * 16;

/** Differing segments: at most the segments of GROUPS_PER_REQUEST_MAX groups, each up to 5 digits and a comma. */
export const SEGMENTS_ANSWER_BYTES_MAX = 1024 + GROUPS_PER_REQUEST_MAX * SEGMENTS_PER_GROUP * 16;

/** One record (a replica read, or a direct read's value and owner): its key and value escaped, and its envelope. */
export function recordAnswerBytesMax(valueBytesMax: number): number {
  return JSON_ESCAPE_FACTOR_MAX * (KEY_BYTES_MAX + valueBytesMax) + RECORD_ENVELOPE_BYTES_MAX;
}

/**
 * One page of segment records: chunkRecords holds its keys and values to RECORD_BYTES_PER_REQUEST_MAX,
 * or to one record when a value alone is larger; each record adds an envelope, and the page its next key.
 */
export function pageAnswerBytesMax(valueBytesMax: number): number {
  const keysAndValues = Math.max(RECORD_BYTES_PER_REQUEST_MAX, KEY_BYTES_MAX + valueBytesMax);
  return JSON_ESCAPE_FACTOR_MAX * (keysAndValues + KEY_BYTES_MAX) + RECORDS_PER_REQUEST_MAX * RECORD_ENVELOPE_BYTES_MAX;
}
