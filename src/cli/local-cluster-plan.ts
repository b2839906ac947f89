// The plan of a local cluster (`bun run cluster`): ports, URLs, seeds, data dirs and node flags from the environment. Pure.
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { parseConfig } from "../config/parse.ts";
import { integer } from "../config/values.ts";

export const NUM_NODES_DEFAULT = 4;
/** A bound on local nodes: each is a Bun process of ~50 MB, and 32 already strain a laptop. */
export const NUM_NODES_MAX = 32;
export const BASE_PORT_DEFAULT = 7001;
/** Relative to the directory the command runs in, next to the single node's ./data of `bun run dev`. */
export const DATA_DIR_DEFAULT = "./data/cluster";
const PORT_MAX = 65_535;
/** Local nodes listen on loopback only: a development cluster is not for the network. */
const HOST = "127.0.0.1";

export interface PlannedNode {
  /** A short label for log prefixes, e.g. node-7001. */
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  /** The one seed this node is given; gossip tells it of the rest. */
  readonly seeds: readonly string[];
  /** Flags for `bun src/main.ts`; flags beat env, so a stray SERVER_PORT or NODE_URL in the env cannot break the plan. */
  readonly args: readonly string[];
}

export interface ClusterPlan {
  readonly dataDir: string;
  readonly nodes: readonly PlannedNode[];
  /** CLUSTER_SECRET for every node: the environment's, or one made for this run so the internal routes are never open. */
  readonly secret: string;
  readonly secretGenerated: boolean;
}

/** Bytes of randomness in a generated secret: 192 bits, written as 32 URL-safe characters (header-safe ASCII). */
const GENERATED_SECRET_BYTES = 24;

export function generateSecret(): string {
  return randomBytes(GENERATED_SECRET_BYTES).toString("base64url");
}

export type PlanResult = { readonly ok: true; readonly plan: ClusterPlan } | { readonly ok: false; readonly error: string };

type Env = Readonly<Record<string, string | undefined>>;

/** An unset or blank variable means its default, as for the node's own settings. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number, why = ""): number | string {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const parsed = integer(min, max)(raw);
  return parsed.ok ? parsed.value : `invalid ${name} "${raw}": expected ${parsed.accepted}${why}`;
}

/** The first node seeds from the second, every other node from the first, so each has exactly one seed. */
export function seedIndex(index: number, count: number): number | undefined {
  if (count < 2) return undefined;
  return index === 0 ? 1 : 0;
}

export function nodeUrl(port: number): string {
  return `http://${HOST}:${port}`;
}

function planNode(port: number, seeds: readonly string[], dataDir: string): PlannedNode {
  const url = nodeUrl(port);
  const name = `node-${port}`;
  const nodeDir = join(dataDir, name);
  return {
    name,
    port,
    url,
    dataDir: nodeDir,
    seeds,
    args: ["-server.port", String(port), "-server.host", HOST, "-node.url", url, "-data.dir", nodeDir, "-node.peers", seeds.join(",")],
  };
}

/**
 * Reads NUM_NODES, BASE_PORT and DATA_DIR; a relative DATA_DIR is taken from `cwd`. The nodes inherit the rest of
 * the environment (STORE_BACKEND, CLUSTER_SECRET, ...), so each node's settings are checked here as the node will
 * read them: one bad value gives one error line instead of N nodes failing at once.
 */
export function planCluster(env: Env, cwd: string, makeSecret: () => string = generateSecret): PlanResult {
  const count = readInteger(env, "NUM_NODES", NUM_NODES_DEFAULT, 1, NUM_NODES_MAX);
  if (typeof count === "string") return { ok: false, error: count };
  const portHigh = PORT_MAX - (count - 1);
  const basePort = readInteger(env, "BASE_PORT", BASE_PORT_DEFAULT, 1, portHigh, ` (so that ${count} consecutive ports fit below ${PORT_MAX + 1})`);
  if (typeof basePort === "string") return { ok: false, error: basePort };
  const dataDir = resolve(cwd, read(env, "DATA_DIR") ?? DATA_DIR_DEFAULT);

  const ports = Array.from({ length: count }, (_, i) => basePort + i);
  const nodes = ports.map((port, i) => {
    const seed = seedIndex(i, count);
    const seedPort = seed === undefined ? undefined : ports[seed];
    return planNode(port, seedPort === undefined ? [] : [nodeUrl(seedPort)], dataDir);
  });
  const given = read(env, "CLUSTER_SECRET");
  const secret = given ?? makeSecret();
  for (const node of nodes) {
    const config = parseConfig(node.args, { ...env, CLUSTER_SECRET: secret });
    if (!config.ok) return { ok: false, error: "error" in config ? config.error.message : "unexpected --help in the node flags" };
  }
  return { ok: true, plan: { dataDir, nodes, secret, secretGenerated: given === undefined } };
}
