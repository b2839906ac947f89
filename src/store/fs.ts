// The fs backend: one strict JSON file, read whole on every operation and rewritten atomically on every write.
// O(n) per operation by design: for a few thousand keys that a person can read and edit.
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { Backend, BackendOptions } from "./backend.ts";
import { StoreError } from "./errors.ts";
import { assertWithinLimits } from "./limits.ts";
import { takeWithinBytes } from "./page-bytes.ts";
import { compareKeys, compareVersions, decidePut, EXPIRED_VALUE_KEPT_MS_MIN, isExpired, isLive, purgedForm, storedForm, type KeyEntry, type KeyPage, type PutOutcome, type StoredRecord, type Version } from "./record.ts";
import { ringSlice } from "./ring-order.ts";
import { SegmentDigests } from "./segments.ts";
import { TurnBatcher } from "./turn-batch.ts";
import type { RingRange } from "../ring/range.ts";

export interface FsOptions extends BackendOptions {
  readonly path: string;
}

const FORMAT = "limedb-fs/1";

type Records = Map<string, StoredRecord>;

/** Everything that rewrites the file goes through one batcher, in arrival order. */
type BatchItem = StoredRecord | { purgeBeforeMs: number } | { discard: string; version: Version };

/**
 * Parses the file text strictly: anything unexpected is corruption, never silently dropped. Its errors
 * name the file and a record's position, never a key or value: the message reaches the log and clients.
 */
export function parseStoreFile(text: string, path: string): Records {
  const corrupt = (why: string) => new StoreError("corrupt", `store file ${path} is corrupt (${why}); fix or move it, LimeDB will not overwrite it`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // The parser's own message can quote the text it stopped at, which may be part of a key or value.
    throw corrupt("not valid JSON");
  }
  if (typeof doc !== "object" || doc === null || (doc as { format?: unknown }).format !== FORMAT) throw corrupt(`no "format": "${FORMAT}"`);
  const raw = (doc as { records?: unknown }).records;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw corrupt(`"records" is not an object`);
  const records: Records = new Map();
  for (const [position, [key, entry]] of Object.entries(raw).entries()) {
    const e = entry as Record<string, unknown>;
    const version = e?.version as unknown[] | undefined;
    const valid =
      typeof e === "object" && e !== null &&
      typeof e.value === "string" &&
      typeof e.tombstone === "boolean" &&
      (e.expiresAtMs === null || Number.isSafeInteger(e.expiresAtMs)) &&
      Array.isArray(version) && version.length === 3 &&
      Number.isSafeInteger(version[0]) && Number.isSafeInteger(version[1]) && typeof version[2] === "string";
    if (!valid) throw corrupt(`record number ${position + 1} of "records" is malformed`);
    records.set(key, {
      key,
      value: e.value as string,
      version: { wallMs: version[0] as number, counter: version[1] as number, node: version[2] as string },
      tombstone: e.tombstone as boolean,
      expiresAtMs: (e.expiresAtMs as number | null) ?? undefined,
    });
  }
  return records;
}

function formatStoreFile(records: Records): string {
  // fromEntries defines own properties: assigning out["__proto__"] would set the prototype and drop that key.
  const out = Object.fromEntries(
    [...records.values()].map((r) => [r.key, { value: r.value, version: [r.version.wallMs, r.version.counter, r.version.node], tombstone: r.tombstone, expiresAtMs: r.expiresAtMs ?? null }]),
  );
  return JSON.stringify({ format: FORMAT, records: out });
}

export class FsBackend implements Backend {
  readonly kind = "fs";
  private readonly batcher: TurnBatcher<BatchItem, PutOutcome | number | boolean>;
  private closed = false;

  /** See BackendOptions.expiredValueKeptMs. */
  private readonly keptMs: number;

  constructor(private readonly options: FsOptions) {
    this.keptMs = Math.max(EXPIRED_VALUE_KEPT_MS_MIN, options.expiredValueKeptMs ?? 0);
    mkdirSync(dirname(options.path), { recursive: true });
    // Refuse to start on a corrupt file: reading it now throws with the file named.
    let text: string | undefined;
    try {
      text = readFileSync(options.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new StoreError("io", `cannot read store file ${options.path}: ${String(error)}`);
    }
    if (text !== undefined) parseStoreFile(text, options.path);
    this.batcher = new TurnBatcher((items) => this.commit(items));
  }

  /** Expired records too, as tombstones are: the node layer tells them from live ones (see decidePut). */
  async get(key: string): Promise<StoredRecord | undefined> {
    return (await this.load()).get(key);
  }

  async getMany(keys: readonly string[]): Promise<(StoredRecord | undefined)[]> {
    const records = await this.load();
    return keys.map((key) => records.get(key));
  }

  async put(record: StoredRecord): Promise<PutOutcome> {
    this.assertOpen();
    assertWithinLimits(record, this.options.valueBytesMax);
    return (await this.batcher.submit(record)) as PutOutcome;
  }

  async putMany(records: readonly StoredRecord[]): Promise<PutOutcome[]> {
    this.assertOpen();
    for (const record of records) assertWithinLimits(record, this.options.valueBytesMax);
    return (await this.batcher.submitAll(records)) as PutOutcome[];
  }

  async page(offset: number, limit: number, bytesMax: number): Promise<KeyPage> {
    const live = await this.liveRecords();
    const entries = takeWithinBytes(live.slice(offset, offset + limit), limit, bytesMax);
    return { entries: entries.map(({ key, value }) => ({ key, value })), total: live.length };
  }

  async keysAfter(afterKey: string, limit: number, bytesMax: number): Promise<KeyEntry[]> {
    const after = (await this.liveRecords()).filter((r) => compareKeys(r.key, afterKey) > 0);
    return takeWithinBytes(after.slice(0, limit), limit, bytesMax).map(({ key, value }) => ({ key, value }));
  }

  async scan(afterKey: string | undefined, limit: number): Promise<StoredRecord[]> {
    return [...(await this.load()).values()]
      .filter((r) => afterKey === undefined || compareKeys(r.key, afterKey) > 0)
      .sort((a, b) => compareKeys(a.key, b.key))
      .slice(0, limit);
  }

  async count(): Promise<number> {
    return (await this.liveRecords()).length;
  }

  async scanRing(range: RingRange, afterKey: string | undefined, limit: number): Promise<StoredRecord[]> {
    return ringSlice([...(await this.load()).values()], range, afterKey, limit);
  }

  /** Nothing to correct: the digests are computed from the file on each call. */
  async verifySegments(): Promise<number> {
    this.assertOpen();
    return 0;
  }

  async segmentDigests(): Promise<Uint32Array> {
    return SegmentDigests.of((await this.load()).values()).sums;
  }

  async discard(key: string, version: Version): Promise<boolean> {
    this.assertOpen();
    return (await this.batcher.submit({ discard: key, version })) as boolean;
  }

  async purge(beforeMs: number): Promise<number> {
    this.assertOpen();
    return (await this.batcher.submit({ purgeBeforeMs: beforeMs })) as number;
  }

  async check(): Promise<void> {
    await this.load();
  }

  async close(): Promise<void> {
    await this.batcher.drain();
    this.closed = true;
  }

  private async liveRecords(): Promise<StoredRecord[]> {
    const now = this.options.clock();
    return [...(await this.load()).values()].filter((r) => isLive(r, now)).sort((a, b) => compareKeys(a.key, b.key));
  }

  private async load(): Promise<Records> {
    this.assertOpen();
    let text: string;
    try {
      text = await readFile(this.options.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
      throw new StoreError("io", `cannot read store file ${this.options.path}: ${String(error)}`, { cause: error });
    }
    return parseStoreFile(text, this.options.path);
  }

  /** One read-modify-write for the whole batch: O(n) per batch, not per write. */
  private async commit(items: readonly BatchItem[]): Promise<(PutOutcome | number | boolean)[]> {
    const records = await this.load();
    const now = this.options.clock();
    let changed = false;
    const results = items.map((item) => {
      if ("discard" in item) {
        const stored = records.get(item.discard);
        const matches = stored !== undefined && compareVersions(stored.version, item.version) === 0;
        if (matches) records.delete(item.discard);
        changed ||= matches;
        return matches;
      }
      if ("purgeBeforeMs" in item) {
        let purged = 0;
        let blanked = false;
        for (const [key, r] of records) {
          const form = purgedForm(r, now, item.purgeBeforeMs, this.keptMs);
          if (form === "blank") records.set(key, { ...r, value: "" });
          blanked ||= form === "blank";
          if (form !== "remove") continue;
          records.delete(key);
          purged++;
        }
        changed ||= purged > 0 || blanked;
        return purged;
      }
      const outcome = decidePut(records.get(item.key), item, now);
      if (outcome.applied) records.set(item.key, storedForm(item, now, this.keptMs));
      changed ||= outcome.applied;
      return outcome;
    });
    if (changed) await this.writeAtomically(formatStoreFile(records));
    return results;
  }

  /** Unique temp file, fsync, rename over the old file, fsync the folder: a crash leaves the old or the new file. */
  private async writeAtomically(text: string): Promise<void> {
    const path = this.options.path;
    const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
    try {
      const file = await open(temp, "wx");
      try {
        await file.writeFile(text, "utf8");
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
      const folder = await open(dirname(path), "r");
      try {
        await folder.sync();
      } finally {
        await folder.close();
      }
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw new StoreError("io", `cannot write store file ${path}: ${String(error)}`, { cause: error });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("closed", `the fs store ${this.options.path} is closed`);
  }
}
