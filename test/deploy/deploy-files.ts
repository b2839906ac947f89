// Reads the deployment files (compose files, Dockerfile, .ci/run) into plain values for the deploy tests.
import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dir, "..", "..");

export interface ComposeService {
  readonly name: string;
  readonly build: unknown;
  readonly image: unknown;
  /** After Compose's ${VAR:-default} interpolation with none of the variables set. */
  readonly environment: Readonly<Record<string, string>>;
  /** The environment as written, before interpolation. */
  readonly rawEnvironment: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly host: string | undefined; readonly container: string }[];
  readonly volumes: readonly { readonly source: string; readonly target: string }[];
  readonly command: readonly string[] | undefined;
  readonly healthcheck: readonly string[] | undefined;
  readonly restart: unknown;
}

export interface ComposeFile {
  readonly services: readonly ComposeService[];
  readonly volumes: readonly string[];
}

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${what} is not a mapping: ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${what} is not a list: ${JSON.stringify(value)}`);
  return value;
}

/** Compose's interpolation: $$ is a dollar, ${VAR:-default} and ${VAR-default} take the default when VAR is unset. */
export function interpolate(value: string, env: Readonly<Record<string, string>> = {}): string {
  return value.replace(/\$\$|\$\{([A-Za-z_]\w*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_]\w*)/g, (match, braced?: string, op?: string, fallback?: string, bare?: string) => {
    if (match === "$$") return "$";
    const name = braced ?? bare ?? "";
    const value = env[name];
    if (op === ":-") return value === undefined || value === "" ? (fallback ?? "") : value;
    if (op === "-") return value ?? fallback ?? "";
    return value ?? "";
  });
}

/** Both forms Compose accepts: a mapping, or a list of NAME=value strings. */
function environmentOf(value: unknown, what: string): Record<string, string> {
  if (Array.isArray(value)) {
    return Object.fromEntries(value.map((entry) => String(entry)).map((entry) => [entry.split("=")[0] ?? "", entry.slice(entry.indexOf("=") + 1)]));
  }
  return Object.fromEntries(Object.entries(record(value ?? {}, what)).map(([name, v]) => [name, v === null ? "" : String(v)]));
}

/** "[ip:]host:container[/proto]", a bare container port, or the long form {target, published}. */
function portOf(value: unknown): { host: string | undefined; container: string } {
  if (typeof value === "object" && value !== null) {
    const long = record(value, "port");
    return { host: long.published === undefined ? undefined : String(long.published), container: String(long.target) };
  }
  const parts = String(value).replace(/\/\w+$/, "").split(":");
  return { host: parts.length > 1 ? parts[parts.length - 2] : undefined, container: parts[parts.length - 1] ?? "" };
}

/** "source:target[:mode]", or the long form {source, target}. */
function volumeOf(value: unknown): { source: string; target: string } {
  if (typeof value === "object" && value !== null) {
    const long = record(value, "volume");
    return { source: String(long.source ?? ""), target: String(long.target) };
  }
  const [source = "", target = ""] = String(value).split(":");
  return { source, target };
}

function commandOf(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? value.split(/\s+/) : list(value, "command").map(String);
}

function serviceOf(name: string, value: unknown): ComposeService {
  const s = record(value, `service ${name}`);
  const rawEnvironment = environmentOf(s.environment, `${name}.environment`);
  const healthcheck = s.healthcheck === undefined ? undefined : list(record(s.healthcheck, `${name}.healthcheck`).test, `${name}.healthcheck.test`).map(String);
  return {
    name,
    build: s.build,
    image: s.image,
    rawEnvironment,
    environment: Object.fromEntries(Object.entries(rawEnvironment).map(([k, v]) => [k, interpolate(v)])),
    ports: list(s.ports, `${name}.ports`).map(portOf),
    volumes: list(s.volumes, `${name}.volumes`).map(volumeOf),
    command: commandOf(s.command),
    healthcheck,
    restart: s.restart,
  };
}

export async function readCompose(file: string): Promise<ComposeFile> {
  const parsed = record(Bun.YAML.parse(await Bun.file(join(REPO_ROOT, file)).text()), file);
  const services = Object.entries(record(parsed.services, `${file} services`)).map(([name, value]) => serviceOf(name, value));
  return { services, volumes: Object.keys(record(parsed.volumes ?? {}, `${file} volumes`)) };
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
export async function readDockerfile(): Promise<Instruction[]> {
  const text = await Bun.file(join(REPO_ROOT, "Dockerfile")).text();
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = "";
  }
  return logical.map((line) => {
    const match = /^\s*(\S+)\s*(.*)$/.exec(line);
    return { keyword: (match?.[1] ?? "").toUpperCase(), args: (match?.[2] ?? "").trim() };
  });
}

/** The instructions of the last stage: what the image that runs is built from. */
export function finalStage(instructions: readonly Instruction[]): Instruction[] {
  const lastFrom = instructions.findLastIndex((i) => i.keyword === "FROM");
  return instructions.slice(lastFrom);
}

/** ENV NAME=value NAME2=value2, or the legacy ENV NAME value. */
export function envOf(instructions: readonly Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, args } of instructions) {
    if (keyword !== "ENV") continue;
    const words = args.split(/\s+/);
    if (!(words[0] ?? "").includes("=")) {
      env[words[0] ?? ""] = words.slice(1).join(" ");
      continue;
    }
    for (const word of words) env[word.slice(0, word.indexOf("="))] = word.slice(word.indexOf("=") + 1);
  }
  return env;
}

/** The Bun version .ci/run installs, which the image must match. */
export async function ciBunVersion(): Promise<string> {
  const match = /^BUN_VERSION="([^"]+)"/m.exec(await Bun.file(join(REPO_ROOT, ".ci", "run")).text());
  if (match?.[1] === undefined) throw new Error(".ci/run does not pin BUN_VERSION");
  return match[1];
}
