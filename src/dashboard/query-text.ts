// The query executor's text mode: `GET k`, `SET k v…`, `DEL k`, one command a line; keys with spaces are "quoted".

export type QueryMethod = "GET" | "SET" | "DEL";

export interface Command {
  readonly method: QueryMethod;
  readonly key: string;
  /** SET only. */
  readonly value?: string;
}

export type Parsed = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly error: string };

/** Lines run at once, at most: a pasted file should not turn into thousands of requests by accident. */
export const COMMAND_LINES_MAX = 100;

const METHODS: readonly QueryMethod[] = ["GET", "SET", "DEL"];

/** A double-quoted JSON string at the start of `text`: its value and the text after it, or undefined. */
function quoted(text: string): { value: string; rest: string } | undefined {
  let end = 1;
  while (end < text.length) {
    if (text[end] === "\\") end += 2;
    else if (text[end] === '"') break;
    else end += 1;
  }
  if (end >= text.length) return undefined;
  try {
    return { value: JSON.parse(text.slice(0, end + 1)) as string, rest: text.slice(end + 1) };
  } catch {
    return undefined;
  }
}

/** The key at the start of `text` (quoted, or up to the first space) and what follows it. */
function keyToken(text: string): { key: string; rest: string } | { error: string } {
  if (text.startsWith('"')) {
    const token = quoted(text);
    if (token === undefined) return { error: "the quoted key is not closed or has a bad escape" };
    if (token.rest !== "" && !/^\s/.test(token.rest)) return { error: "put a space after the quoted key" };
    return { key: token.value, rest: token.rest };
  }
  const match = /^(\S+)(.*)$/s.exec(text);
  return match === null ? { error: "a key is missing" } : { key: match[1] ?? "", rest: match[2] ?? "" };
}

/**
 * One command line. SET takes the rest of the line as the value, as typed; a value written as one
 * "quoted" JSON string is decoded, so leading spaces, newlines (\n) and the empty string can be set.
 */
export function parseCommand(line: string): Parsed {
  const text = line.trim();
  const match = /^(\S+)\s*(.*)$/s.exec(text);
  if (match === null) return { ok: false, error: "the line is empty" };
  const method = (match[1] ?? "").toUpperCase() as QueryMethod;
  if (!METHODS.includes(method)) return { ok: false, error: `unknown command "${match[1]}"; use GET key, SET key value or DEL key` };
  const token = keyToken(match[2] ?? "");
  if ("error" in token) return { ok: false, error: `${method}: ${token.error}` };
  if (token.key === "") return { ok: false, error: `${method}: the key must not be empty` };
  const rest = token.rest.trim();
  if (method !== "SET") {
    return rest === "" ? { ok: true, command: { method, key: token.key } } : { ok: false, error: `${method} takes one key; quote a key that has spaces` };
  }
  if (rest === "") return { ok: false, error: "SET needs a value after the key" };
  const value = rest.startsWith('"') ? quoted(rest) : undefined;
  return { ok: true, command: { method, key: token.key, value: value !== undefined && value.rest.trim() === "" ? value.value : rest } };
}

/** Every command of a text, one a line; blank lines and lines starting with # are skipped. */
export function parseCommands(text: string): Parsed[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "" && !line.trim().startsWith("#"));
  if (lines.length > COMMAND_LINES_MAX) return [{ ok: false, error: `at most ${COMMAND_LINES_MAX} commands at once; this text has ${lines.length}` }];
  return lines.map(parseCommand);
}

/** A command as text mode would write it, for the results list. */
export function commandText(command: Command): string {
  const key = /^[^\s"]+$/.test(command.key) ? command.key : JSON.stringify(command.key);
  return command.method === "SET" ? `SET ${key} ${command.value ?? ""}` : `${command.method} ${key}`;
}
