// What each `limedb` command does once its arguments are parsed: one call or a few to a node, then JSON or a report.
import { utf8Bytes } from "../store/limits.ts";
import { ClientError, KEYS_PAGE_SIZE_MAX, type KeysBody, type NodeClient, type ScanBody } from "../client/node-client.ts";
import { gossipReport, keysReport, ringReport, statusReport } from "./reports.ts";

/** Exit codes of the command (SPEC §11 and the issue): the contract scripts rely on. */
export const EXIT = { ok: 0, notFound: 1, usage: 2, unreachable: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Largest value read from stdin: far above a node's default VALUE_BYTES_MAX (1 MiB), which the node enforces itself. */
export const STDIN_BYTES_MAX = 64 * 1024 * 1024;
/** `keys --all` gathers at most this many keys in memory; a larger store is listed with --page. */
export const KEYS_ALL_MAX = 100_000;

/** A command used wrongly: a bad flag value, a missing value, conflicting options. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Where a command writes and reads; the real process's streams in limedb.ts, fakes in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly stdoutIsTty: boolean;
  readonly stdinIsTty: boolean;
  /** All of stdin as UTF-8, or a UsageError when it exceeds `maxBytes` or is not UTF-8. */
  readStdin(maxBytes: number): Promise<string>;
}

export interface Output {
  readonly io: Io;
  readonly json: boolean;
}

/** The exit code of a failure; anything that is neither a usage nor a client error is a bug and rethrown by the caller. */
export function exitCodeOf(error: ClientError | UsageError): ExitCode {
  if (error instanceof UsageError) return EXIT.usage;
  switch (error.kind) {
    case "not_found":
      return EXIT.notFound;
    case "rejected":
      // The node judged the request malformed or too large: a usage error as much as a bad flag is.
      return EXIT.usage;
    case "unavailable":
    case "unreachable":
    case "timeout":
    case "bad_answer":
      return EXIT.unreachable;
  }
}

function printJson(output: Output, value: unknown): void {
  output.io.out(`${JSON.stringify(value)}\n`);
}

function printLines(output: Output, lines: readonly string[]): void {
  output.io.out(`${lines.join("\n")}\n`);
}

function notFound(key: string): ClientError {
  return new ClientError("not_found", `key ${JSON.stringify(key)} not found`);
}

export function checkKey(key: string): string {
  if (key === "") throw new UsageError("the key must not be empty");
  return key;
}

export async function getCommand(client: NodeClient, key: string, output: Output): Promise<void> {
  const answer = await client.get(checkKey(key));
  if (answer === undefined) throw notFound(key);
  if (output.json) return printJson(output, { key, value: answer.value, nodeUrl: answer.nodeUrl });
  // The value exactly as stored, so `limedb get k > file` round-trips; a newline only to keep a terminal's prompt apart.
  output.io.out(output.io.stdoutIsTty ? `${answer.value}\n` : answer.value);
}

export async function setCommand(client: NodeClient, key: string, value: string | undefined, ttlMs: number | undefined, output: Output): Promise<void> {
  checkKey(key);
  if (value === undefined && output.io.stdinIsTty) throw new UsageError("set needs a VALUE argument, or the value piped on stdin");
  const text = value ?? (await output.io.readStdin(STDIN_BYTES_MAX));
  await client.set(key, text, ttlMs);
  if (output.json) return printJson(output, { key, ok: true, ...(ttlMs === undefined ? {} : { ttlMs }) });
  output.io.out("OK\n");
}

export async function delCommand(client: NodeClient, key: string, output: Output): Promise<void> {
  const existed = await client.del(checkKey(key));
  if (output.json) printJson(output, { key, deleted: existed });
  else if (existed) output.io.out("deleted\n");
  if (!existed) throw notFound(key);
}

/**
 * Removes a member the node holds dead: it leaves every ring as gossip spreads the removal, and its ranges get
 * new replicas. The node refuses one that still answers gossip (exit 2), so a live node is never cut out by it.
 */
export async function removeCommand(client: NodeClient, member: string, secret: string, force: boolean, output: Output): Promise<void> {
  await client.remove(member, secret, force);
  if (output.json) printJson(output, { nodeUrl: member, removed: true });
  else output.io.out(`removed ${member}; its ranges move to the other members as gossip spreads the news\n`);
}

export interface KeysOptions {
  readonly page?: number;
  readonly pageSize?: number;
  readonly all: boolean;
}

export async function keysCommand(client: NodeClient, options: KeysOptions, output: Output): Promise<void> {
  if (!options.all) {
    const page = await client.keys(options.page ?? 1, options.pageSize ?? 20);
    if (output.json) return printJson(output, page);
    return printLines(output, keysReport(client.nodeUrl, page.keys, page.total, { page: page.page ?? 1, totalPages: page.totalPages ?? 0 }));
  }
  const keys = await allKeys(client);
  if (output.json) return printJson(output, { keys, total: keys.length });
  printLines(output, keysReport(client.nodeUrl, keys, keys.length));
}

/**
 * Every live key of the cluster, by the cluster-wide scan (each page costs one page, at any depth), sorted
 * by key. The listing is live: a key written meanwhile after the cursor shows, one before it does not.
 */
async function allKeys(client: NodeClient): Promise<KeysBody["keys"]> {
  const keys: KeysBody["keys"] = [];
  let cursor: string | null = null;
  do {
    const page: ScanBody = await client.scan(cursor, KEYS_PAGE_SIZE_MAX);
    for (const { key, value } of page.keys) keys.push({ key, value, size: utf8Bytes(value) });
    if (keys.length > KEYS_ALL_MAX) throw new UsageError(`the cluster holds more than ${KEYS_ALL_MAX} keys, more than --all lists; use --page and --page-size on each node`);
    cursor = page.next;
  } while (cursor !== null);
  return keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export async function statusCommand(client: NodeClient, output: Output): Promise<void> {
  const started = performance.now();
  const [state, health] = await Promise.all([client.state(), client.health()]);
  const latencyMs = performance.now() - started;
  if (output.json) return printJson(output, { nodeUrl: client.nodeUrl, latencyMs: Math.round(latencyMs), state, health });
  printLines(output, statusReport(state, health, latencyMs));
}

export async function ringCommand(client: NodeClient, output: Output): Promise<void> {
  const { body, text } = await client.ring();
  // The text as sent: JSON.parse would round the 64-bit hashes.
  if (output.json) return output.io.out(`${text.trim()}\n`);
  printLines(output, ringReport(body));
}

export async function gossipCommand(client: NodeClient, output: Output): Promise<void> {
  const gossip = await client.gossip();
  if (output.json) return printJson(output, gossip);
  printLines(output, gossipReport(gossip));
}
