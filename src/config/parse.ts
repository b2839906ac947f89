// Turns argv and the environment into a Config, or one error line naming the setting, the value and what is accepted.
import { SETTINGS, type Config, type SettingName } from "./settings.ts";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; error: ConfigError } | { ok: false; help: string };

const NAMES = Object.keys(SETTINGS) as SettingName[];
const BY_FLAG = new Map(NAMES.flatMap((name) => {
  const s: { flag: string; formerly?: { flag: string } } = SETTINGS[name];
  return s.formerly === undefined ? [[s.flag, name] as const] : [[s.flag, name] as const, [s.formerly.flag, name] as const];
}));

/** Reads `-name value`, `-name=value`, `--name=value` and `--name value`. */
function readFlags(argv: readonly string[]): Map<SettingName, { value: string; flag: string }> | ConfigError | "help" {
  const flags = new Map<SettingName, { value: string; flag: string }>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? "";
    if (word === "-h" || word === "--help" || word === "-help") return "help";
    if (!word.startsWith("-") || word === "-" || word === "--") {
      return new ConfigError(`unexpected argument "${word}": settings are given as -name value or -name=value (see --help)`);
    }
    const body = word.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const flag = eq === -1 ? body : body.slice(0, eq);
    const name = BY_FLAG.get(flag);
    if (name === undefined) return new ConfigError(`unknown flag "-${flag}": accepted flags are ${NAMES.map((n) => `-${SETTINGS[n].flag}`).join(", ")}`);
    if (eq !== -1) {
      flags.set(name, { value: body.slice(eq + 1), flag });
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined) return new ConfigError(`flag -${flag} needs a value: ${SETTINGS[name].help}`);
    flags.set(name, { value, flag });
    i++;
  }
  return flags;
}

export function usage(): string {
  const lines = NAMES.map((name) => {
    const s = SETTINGS[name];
    return `  -${s.flag.padEnd(28)} ${s.env.padEnd(20)} ${s.help}${s.fallback === undefined ? "" : ` (default: ${s.fallback === "" ? "none" : s.fallback})`}`;
  });
  return ["usage: limedb-node [-flag value ...]   (flag > env > default)", "", ...lines].join("\n");
}

export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ConfigResult {
  const flags = readFlags(argv);
  if (flags === "help") return { ok: false, help: usage() };
  if (flags instanceof ConfigError) return { ok: false, error: flags };

  const values: Partial<Record<SettingName, unknown>> = {};
  for (const name of NAMES) {
    const s = SETTINGS[name];
    const given = flags.get(name);
    const fromFlag = given?.value;
    // A renamed setting's old env name is read when the new one is not set.
    const formerly = (s as { formerly?: { env: string } }).formerly;
    const envName = (env[s.env] ?? "") === "" && formerly !== undefined && (env[formerly.env] ?? "") !== "" ? formerly.env : s.env;
    const fromEnv = env[envName];
    const raw = fromFlag ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined) ?? s.fallback;
    if (raw === undefined) continue;
    const parsed = s.parse(raw);
    if (!parsed.ok) {
      const source = given !== undefined ? `-${given.flag}` : fromEnv !== undefined && fromEnv !== "" ? envName : `default of ${s.env}`;
      const shown = s.secret === true ? "(value not shown)" : `"${raw}"`;
      return { ok: false, error: new ConfigError(`invalid ${source} ${shown}: expected ${parsed.accepted}`) };
    }
    values[name] = parsed.value;
  }
  // NODE_URL derives from the effective port when not given, so a node on -server.port 7001 is http://localhost:7001.
  // Normalised like a given URL, so port 80 becomes http://localhost and matches the same URL in NODE_PEERS.
  values.nodeUrl ??= new URL(`http://localhost:${String(values.serverPort)}`).origin;
  const config = values as Config;
  const order = checkRelations(config);
  if (order !== undefined) return { ok: false, error: order };
  return { ok: true, config: { ...config, nodePeers: config.nodePeers.filter((peer) => peer !== config.nodeUrl) } };
}

/**
 * Settings that must agree: the failure detector needs interval < stale < dead (a member must miss
 * rounds before it is suspected), and a quorum cannot exceed the copies there are.
 */
function checkRelations(config: Config): ConfigError | undefined {
  if (config.gossipStaleAfterMs <= config.gossipIntervalMs) {
    return new ConfigError(`invalid GOSSIP_STALE_AFTER_MS "${config.gossipStaleAfterMs}": expected more than GOSSIP_INTERVAL_MS (${config.gossipIntervalMs})`);
  }
  if (config.gossipDeadAfterMs <= config.gossipStaleAfterMs) {
    return new ConfigError(`invalid GOSSIP_DEAD_AFTER_MS "${config.gossipDeadAfterMs}": expected more than GOSSIP_STALE_AFTER_MS (${config.gossipStaleAfterMs})`);
  }
  if (config.removeDeadAfterMs !== 0 && config.removeDeadAfterMs <= config.gossipDeadAfterMs) {
    return new ConfigError(`invalid REMOVE_DEAD_AFTER_MS "${config.removeDeadAfterMs}": expected 0 (off) or more than GOSSIP_DEAD_AFTER_MS (${config.gossipDeadAfterMs})`);
  }
  for (const [env, quorum] of [["WRITE_QUORUM", config.writeQuorum], ["READ_QUORUM", config.readQuorum]] as const) {
    if (quorum > config.replicationFactor) {
      return new ConfigError(`invalid ${env} "${quorum}": expected 0 (majority) or at most REPLICATION_FACTOR (${config.replicationFactor})`);
    }
  }
  return undefined;
}
