// Batches of reads and writes: each key coordinated as a single GET or SET would be (same replicas, quorums
// and versions), a bounded number at once, so the replica calls of a batch share the bus's frames per peer.
// The answer says per key what happened: a partial failure is reported as one, never as all-or-nothing.
import { KEY_BYTES_MAX, utf8Bytes } from "../store/limits.ts";
import { checkKey, checkTtl, checkValue } from "./checks.ts";
import { NodeError, type NodeErrorCode } from "./errors.ts";
import type { RestoreOutcome } from "./node.ts";
import type { StoredRecord } from "../store/record.ts";

/** Keys in one mget or entries in one mset. */
export const BATCH_KEYS_MAX = 1_000;
/** Keys of a batch coordinated at once: enough to fill the bus's frames, few enough to bound what one batch holds. */
export const BATCH_CONCURRENCY = 64;
/**
 * UTF-8 bytes of keys and values one mset carries, and of values one mget answers with: past it an mget
 * answers the remaining keys as too_large (ask for them again), and an mset is refused whole (400/413). A
 * batch of one always fits a value at VALUE_BYTES_MAX (see batchBytesMax).
 */
export const BATCH_BYTES_MAX = 16 * 1024 * 1024;

/** The byte budget of a batch on a node whose values may be `valueBytesMax` long: one largest entry always fits. */
export function batchBytesMax(valueBytesMax: number): number {
  return Math.max(BATCH_BYTES_MAX, valueBytesMax + KEY_BYTES_MAX);
}

/** What a batch needs of the coordinator: a GET and a SET of one key. */
export interface BatchNode {
  readonly valueBytesMax: number;
  get(key: string): Promise<{ value: string; nodeUrl: string }>;
  set(key: string, value: string, ttlMs: number | undefined): Promise<void>;
}

export type KeyFailure = { readonly code: NodeErrorCode; readonly error: string };
export type MgetResult = { readonly key: string } & ({ readonly found: true; readonly value: string; readonly nodeUrl: string } | { readonly found: false } | KeyFailure);
export type MsetResult = { readonly key: string } & ({ readonly ok: true } | ({ readonly ok: false } & KeyFailure));

/** Told of a failure that is this node's bug (main logs it). */
export type Report = (error: unknown) => void;

export interface MsetEntry {
  readonly key: string;
  readonly value: string;
  readonly ttlMs?: number | undefined;
}

/**
 * Reads every key; answers in the order asked. A key that does not exist is `found: false`; one whose read
 * failed carries the failure's code and message. Values are answered until the byte budget is spent; a value
 * that does not fit, and every key after the budget ran out, is answered too_large (ask for those again).
 */
export async function mget(node: BatchNode, keys: readonly string[], report: Report = () => undefined): Promise<MgetResult[]> {
  checkCount(keys.length);
  keys.forEach((key, i) => within(i, () => checkKey(key)));
  const budget = batchBytesMax(node.valueBytesMax);
  let bytes = 0;
  const overBudget = (key: string): MgetResult => ({ key, code: "too_large", error: `the answer holds ${budget} bytes of values at most and had no room for this key's; ask for it in another call` });
  return inPool(keys, async (key): Promise<MgetResult> => {
    if (bytes >= budget) return overBudget(key);
    try {
      const found = await node.get(key);
      const size = utf8Bytes(found.value);
      // Reads run side by side: the budget is taken as values arrive (BATCH_CONCURRENCY of them at most in hand).
      if (bytes + size > budget) {
        bytes = budget;
        return overBudget(key);
      }
      bytes += size;
      return { key, found: true, value: found.value, nodeUrl: found.nodeUrl };
    } catch (error) {
      if (error instanceof NodeError && error.code === "not_found") return { key, found: false };
      return { key, ...failure(error, report) };
    }
  });
}

/**
 * Writes every entry, each as a SET of its own (a failed one does not undo the others); answers in the order
 * given. Every entry is checked before any is written, so a bad one changes nothing. Entries naming the same
 * key are written in the order given, the last one winning.
 */
export async function mset(node: BatchNode, entries: readonly MsetEntry[], report: Report = () => undefined): Promise<MsetResult[]> {
  checkWrites(entries, node.valueBytesMax, (entry) => checkTtl(entry.ttlMs));
  // A key's later entries wait for its earlier ones, so the last given is the last written (the newest version).
  const previous = new Map<string, Promise<unknown>>();
  const ordered = entries.map((entry) => {
    const before = previous.get(entry.key);
    const write = () => (before === undefined ? node.set(entry.key, entry.value, entry.ttlMs) : before.then(() => node.set(entry.key, entry.value, entry.ttlMs)));
    const done = Promise.withResolvers<void>();
    previous.set(entry.key, done.promise);
    return { entry, write, done };
  });
  return inPool(ordered, async ({ entry, write, done }): Promise<MsetResult> => {
    try {
      await write();
      return { key: entry.key, ok: true };
    } catch (error) {
      return { key: entry.key, ok: false, ...failure(error, report) };
    } finally {
      done.resolve();
    }
  });
}

export type RestoreResult = { readonly key: string } & ({ readonly outcome: RestoreOutcome } | KeyFailure);

/** What a restore needs of the coordinator: a versioned write of one record. */
export interface RestoreNode {
  readonly valueBytesMax: number;
  restore(record: StoredRecord): Promise<RestoreOutcome>;
}

/**
 * Writes records from a backup under their own versions, each as a versioned SET of its own; answers in order
 * with each record's outcome (restored, or kept where a replica held that version or a newer one) or failure.
 * Every record is checked before any is written, and the batch's bytes are bounded as an mset's.
 */
export async function restoreRecords(node: RestoreNode, records: readonly StoredRecord[], report: Report = () => undefined): Promise<RestoreResult[]> {
  checkWrites(records, node.valueBytesMax);
  return inPool(records, async (record): Promise<RestoreResult> => {
    try {
      return { key: record.key, outcome: await node.restore(record) };
    } catch (error) {
      return { key: record.key, ...failure(error, report) };
    }
  });
}

/**
 * Checks a batch of writes whole before any is written: the count, every key and value (and whatever `more`
 * checks), naming the first bad item, and the bytes of keys and values against the batch's budget.
 */
function checkWrites<T extends { readonly key: string; readonly value: string }>(items: readonly T[], valueBytesMax: number, more: (item: T) => void = () => undefined): void {
  checkCount(items.length);
  let bytes = 0;
  items.forEach((item, i) =>
    within(i, () => {
      checkKey(item.key);
      checkValue(item.value, valueBytesMax);
      more(item);
      bytes += utf8Bytes(item.key) + utf8Bytes(item.value);
    }),
  );
  const budget = batchBytesMax(valueBytesMax);
  if (bytes > budget) throw new NodeError("too_large", `the batch carries ${bytes} bytes of keys and values, over the limit of ${budget}; split it`);
}

function checkCount(count: number): void {
  if (count === 0) throw new NodeError("bad_request", "a batch needs at least one key");
  if (count > BATCH_KEYS_MAX) throw new NodeError("bad_request", `a batch holds at most ${BATCH_KEYS_MAX} keys; split it`);
}

/** Runs a check of item `index`, naming the item in what it throws. */
function within(index: number, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof NodeError) throw new NodeError(error.code, `item ${index}: ${error.message}`);
    throw error;
  }
}

/**
 * A key's failure as the client hears it: a node error's code and message. Anything else is this node's bug:
 * reported (logged) and answered as internal for that key alone, since the batch's other keys were still
 * coordinated, and a 500 for the whole batch would hide the writes that were made.
 */
function failure(error: unknown, report: Report): KeyFailure {
  if (error instanceof NodeError && error.code !== "internal") return { code: error.code, error: error.message };
  report(error);
  return { code: "internal", error: "the node failed on this key; it has been logged" };
}

/** Maps every item with at most BATCH_CONCURRENCY at once; results in the items' order. */
async function inPool<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, items.length) }, worker));
  return results;
}
