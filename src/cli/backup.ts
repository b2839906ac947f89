// `limedb backup` and `limedb restore`: the cluster's live keys, with their versions, to a file and back.
// The file is JSON lines: a header, one record per line (key, value, version, expiry), and a trailer with
// the count, so a file cut short is refused rather than restored in part unknowingly. A backup is the
// cluster-wide scan (every live key once, in ring order); a restore writes each record through the cluster
// under its own version, so a key written or deleted after the backup keeps its newer state.
import { createReadStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { BATCH_KEYS_MAX } from "../node/batch.ts";
import { boundedLines } from "./bounded-lines.ts";
import type { BackupRecord, NodeClient, ScanBody } from "../client/node-client.ts";
import { UsageError, type Output } from "./commands.ts";

export const BACKUP_FORMAT = "limedb-backup";
export const BACKUP_FORMAT_VERSION = 1;
/** Keys per scan page while backing up (the scan's largest page). */
const BACKUP_PAGE_KEYS = 1_000;
/** Records per restore call: a batch of the admin route. */
const RESTORE_BATCH_RECORDS = 500;
/** A line of a backup holds one record: a key, a value of at most VALUE_BYTES_MAX escaped, and a version. */
const LINE_CHARS_MAX = 8 * 1024 * 1024;
/** Progress goes to stderr at most this often, in records. */
const PROGRESS_EVERY_RECORDS = 10_000;

interface Header {
  readonly format: typeof BACKUP_FORMAT;
  readonly formatVersion: number;
  readonly createdAt: string;
  readonly node: string;
}

interface Trailer {
  readonly end: true;
  readonly records: number;
}

/** Writes every live key of the cluster to `file` (via a temporary file renamed at the end: never half a backup under its name). */
export async function backupCommand(client: NodeClient, file: string, output: Output): Promise<void> {
  const partial = `${file}.partial-${process.pid}`;
  const writer = Bun.file(partial).writer();
  let records = 0;
  try {
    const header: Header = { format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, createdAt: new Date().toISOString(), node: client.nodeUrl };
    writer.write(`${JSON.stringify(header)}\n`);
    let cursor: string | null = null;
    do {
      const page: ScanBody = await client.scan(cursor, BACKUP_PAGE_KEYS);
      for (const record of page.keys) {
        writer.write(`${JSON.stringify({ key: record.key, value: record.value, version: record.version, expiresAtMs: record.expiresAtMs })}\n`);
        if (++records % PROGRESS_EVERY_RECORDS === 0) output.io.err(`backed up ${records} keys\n`);
      }
      await writer.flush();
      cursor = page.next;
    } while (cursor !== null);
    const trailer: Trailer = { end: true, records };
    writer.write(`${JSON.stringify(trailer)}\n`);
    await writer.end();
    await rename(partial, file);
  } catch (error) {
    await Promise.resolve(writer.end()).catch(() => undefined);
    await rm(partial, { force: true });
    throw error;
  }
  if (output.json) output.io.out(`${JSON.stringify({ file, records })}\n`);
  else output.io.out(`backed up ${records} keys to ${file}\n`);
}

export interface RestoreSummary {
  readonly records: number;
  readonly restored: number;
  readonly kept: number;
  readonly failed: number;
}

/** Writes every record of a backup file through the cluster under its own version; returns what happened. */
export async function restoreCommand(client: NodeClient, file: string, secret: string, output: Output): Promise<RestoreSummary> {
  const input = createReadStream(file, { encoding: "utf8", highWaterMark: 1024 * 1024 });
  const lines = boundedLines(input, LINE_CHARS_MAX, (n) => new UsageError(`${file}:${n}: a line longer than ${LINE_CHARS_MAX} characters is no record of a backup`));
  const summary = { records: 0, restored: 0, kept: 0, failed: 0 };
  const failures: string[] = [];
  let batch: BackupRecord[] = [];
  let header: Header | undefined;
  let trailer: Trailer | undefined;
  const send = async () => {
    if (batch.length === 0) return;
    const answer = await client.restore(batch, secret);
    summary.restored += answer.restored;
    summary.kept += answer.kept;
    summary.failed += answer.failed;
    for (const result of answer.results) if ("code" in result && failures.length < 10) failures.push(`${result.key}: ${result.error}`);
    const before = summary.records;
    summary.records += batch.length;
    if (Math.floor(summary.records / PROGRESS_EVERY_RECORDS) > Math.floor(before / PROGRESS_EVERY_RECORDS)) output.io.err(`restored ${summary.records} records\n`);
    batch = [];
  };
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (trailer !== undefined) throw new UsageError(`${file}:${lineNumber}: text after the backup's end`);
      const parsed = parseLine(file, lineNumber, line);
      if (header === undefined) {
        header = asHeader(file, parsed);
        continue;
      }
      if (isTrailer(parsed)) {
        trailer = parsed;
        continue;
      }
      batch.push(asRecord(file, lineNumber, parsed));
      if (batch.length >= Math.min(RESTORE_BATCH_RECORDS, BATCH_KEYS_MAX)) await send();
    }
  } finally {
    input.destroy();
  }
  if (header === undefined) throw new UsageError(`${file} is empty: no LimeDB backup`);
  if (trailer === undefined) throw new UsageError(`${file} ends without the backup's last line: it was cut short; nothing after line ${lineNumber} was restored`);
  await send();
  if (trailer.records !== summary.records) throw new UsageError(`${file} says it holds ${trailer.records} records but has ${summary.records}`);
  if (output.json) output.io.out(`${JSON.stringify({ file, ...summary })}\n`);
  else output.io.out(`restored ${summary.restored} of ${summary.records} records from ${file}; ${summary.kept} already held that version or a newer one; ${summary.failed} failed\n`);
  for (const failure of failures) output.io.err(`failed: ${failure}\n`);
  return summary;
}

function parseLine(file: string, lineNumber: number, line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw new UsageError(`${file}:${lineNumber}: not JSON; is it a LimeDB backup?`);
  }
}

function asHeader(file: string, value: unknown): Header {
  const header = value as Partial<Header> | null;
  if (header?.format !== BACKUP_FORMAT) throw new UsageError(`${file} is not a LimeDB backup (no "${BACKUP_FORMAT}" header)`);
  if (header.formatVersion !== BACKUP_FORMAT_VERSION) throw new UsageError(`${file} is a backup of format ${String(header.formatVersion)}; this limedb reads ${BACKUP_FORMAT_VERSION}`);
  return header as Header;
}

function isTrailer(value: unknown): value is Trailer {
  return typeof value === "object" && value !== null && (value as { end?: unknown }).end === true && Number.isSafeInteger((value as { records?: unknown }).records);
}

function asRecord(file: string, lineNumber: number, value: unknown): BackupRecord {
  const record = value as Partial<BackupRecord> | null;
  const version = record?.version;
  const ok =
    typeof record?.key === "string" &&
    typeof record.value === "string" &&
    (record.expiresAtMs === null || Number.isSafeInteger(record.expiresAtMs)) &&
    typeof version === "object" &&
    version !== null &&
    Number.isSafeInteger(version.wallMs) &&
    Number.isSafeInteger(version.counter) &&
    typeof version.node === "string";
  if (!ok) throw new UsageError(`${file}:${lineNumber}: not a record of a backup (key, value, version, expiresAtMs)`);
  return record as BackupRecord;
}
