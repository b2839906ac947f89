// Configuration: flag > env > default for every setting, the accepted flag forms, and one clear line for a bad value.
import { describe, expect, test } from "bun:test";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseConfig, type ConfigResult } from "../../src/config/parse.ts";
import { SETTINGS, type Config, type SettingName } from "../../src/config/settings.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");

interface PrecedenceCase<T> {
  /** Typed after the flag; differs from `env`, which differs from the default, so the winner is visible. */
  readonly flag: string;
  readonly env: string;
  readonly fromFlag: T;
  readonly fromEnv: T;
  readonly fallback: T;
}

/** One row per setting: adding a setting without a row here fails to compile. */
const PRECEDENCE: { readonly [K in SettingName]: PrecedenceCase<Config[K]> } = {
  serverPort: { flag: "7001", env: "7002", fromFlag: 7001, fromEnv: 7002, fallback: 8484 },
  serverHost: { flag: "0.0.0.0", env: "127.0.0.2", fromFlag: "0.0.0.0", fromEnv: "127.0.0.2", fallback: "127.0.0.1" },
  redisPort: { flag: "6380", env: "6381", fromFlag: 6380, fromEnv: 6381, fallback: 0 },
  redisPassword: { flag: "flag-pass", env: "env-pass", fromFlag: "flag-pass", fromEnv: "env-pass", fallback: "" },
  nodeUrl: { flag: "http://127.0.0.2:1", env: "https://127.0.0.3:2/", fromFlag: "http://127.0.0.2:1", fromEnv: "https://127.0.0.3:2", fallback: "http://localhost:8484" },
  nodePeers: { flag: "http://127.0.0.1:1", env: "http://127.0.0.2:2, http://127.0.0.3:3", fromFlag: ["http://127.0.0.1:1"], fromEnv: ["http://127.0.0.2:2", "http://127.0.0.3:3"], fallback: [] },
  virtualNodes: { flag: "0", env: "16", fromFlag: 0, fromEnv: 16, fallback: 256 },
  dataDir: { flag: "/srv/flag", env: "/srv/env", fromFlag: "/srv/flag", fromEnv: "/srv/env", fallback: join(homedir(), ".limedb") },
  storeBackend: { flag: "memory", env: "fs", fromFlag: "memory", fromEnv: "fs", fallback: "sqlite" },
  sqliteSync: { flag: "normal", env: "FULL", fromFlag: "normal", fromEnv: "full", fallback: "normal" },
  valueBytesMax: { flag: "2048", env: "4096", fromFlag: 2048, fromEnv: 4096, fallback: 1024 * 1024 },
  replicationFactor: { flag: "4", env: "5", fromFlag: 4, fromEnv: 5, fallback: 3 },
  otelEndpoint: { flag: "http://127.0.0.1:4318", env: "https://127.0.0.2:4318/v1", fromFlag: "http://127.0.0.1:4318/", fromEnv: "https://127.0.0.2:4318/v1", fallback: "" },
  otelExportIntervalMs: { flag: "200", env: "10000", fromFlag: 200, fromEnv: 10000, fallback: 5000 },
  otelSampleRatio: { flag: "0.25", env: "0.01", fromFlag: 0.25, fromEnv: 0.01, fallback: 1 },
  logLevel: { flag: "debug", env: "warn", fromFlag: "debug", fromEnv: "warn", fallback: "info" },
  clusterSecret: { flag: "flag-secret", env: "env-secret", fromFlag: "flag-secret", fromEnv: "env-secret", fallback: "" },
  allowedHosts: { flag: "db.example.com,127.0.0.5", env: "node1.example", fromFlag: ["db.example.com", "127.0.0.5"], fromEnv: ["node1.example"], fallback: [] },
  corsOrigins: { flag: "https://app.example.com", env: "*", fromFlag: ["https://app.example.com"], fromEnv: ["*"], fallback: [] },
  maxClockSkewMs: { flag: "250", env: "2000", fromFlag: 250, fromEnv: 2000, fallback: 500 },
  // Timing rows keep interval < stale < dead against the other settings' defaults.
  gossipIntervalMs: { flag: "500", env: "800", fromFlag: 500, fromEnv: 800, fallback: 1000 },
  gossipStaleAfterMs: { flag: "4000", env: "4500", fromFlag: 4000, fromEnv: 4500, fallback: 3000 },
  gossipDeadAfterMs: { flag: "9000", env: "12000", fromFlag: 9000, fromEnv: 12000, fallback: 5000 },
  removeDeadAfterMs: { flag: "60000", env: "0", fromFlag: 60000, fromEnv: 0, fallback: 3_600_000 },
  peerTimeoutMs: { flag: "150", env: "3000", fromFlag: 150, fromEnv: 3000, fallback: 2000 },
  writeQuorum: { flag: "2", env: "1", fromFlag: 2, fromEnv: 1, fallback: 0 },
  readQuorum: { flag: "3", env: "1", fromFlag: 3, fromEnv: 1, fallback: 0 },
  tombstoneTtlMs: { flag: "60000", env: "3600000", fromFlag: 60000, fromEnv: 3600000, fallback: 86_400_000 },
  antiEntropyIntervalMs: { flag: "500", env: "30000", fromFlag: 500, fromEnv: 30000, fallback: 10000 },
};

const ROWS = Object.entries(PRECEDENCE) as [SettingName, PrecedenceCase<Config[SettingName]>][];

function config(result: ConfigResult): Config {
  if (!result.ok) throw new Error("help" in result ? "asked for help" : result.error.message);
  return result.config;
}

function errorOf(result: ConfigResult): string {
  if (result.ok || "help" in result) throw new Error("expected a configuration error");
  return result.error.message;
}

describe("precedence", () => {
  test.each(ROWS)("%s: a flag beats the env", (name, row) => {
    const s = SETTINGS[name];
    expect(config(parseConfig([`-${s.flag}`, row.flag], { [s.env]: row.env }))[name]).toEqual(row.fromFlag);
  });

  test.each(ROWS)("%s: the env beats the default", (name, row) => {
    expect(config(parseConfig([], { [SETTINGS[name].env]: row.env }))[name]).toEqual(row.fromEnv);
  });

  test.each(ROWS)("%s: the default applies when neither is given", (name, row) => {
    expect(config(parseConfig([], {}))[name]).toEqual(row.fallback);
  });

  test.each(ROWS)("%s: an empty env value counts as unset", (name, row) => {
    expect(config(parseConfig([], { [SETTINGS[name].env]: "" }))[name]).toEqual(row.fallback);
  });

  test("every setting can be given at once, all by flag", () => {
    const argv = ROWS.flatMap(([name, row]) => [`-${SETTINGS[name].flag}`, row.flag]);
    const parsed = config(parseConfig(argv, {}));
    for (const [name, row] of ROWS) expect(parsed[name]).toEqual(row.fromFlag);
  });

  test("a flag given twice takes its last value", () => {
    expect(config(parseConfig(["-server.port", "1", "-server.port", "2"], {})).serverPort).toBe(2);
  });
});

describe("flag forms", () => {
  test.each([
    ["-name value", ["-server.port", "7001"]],
    ["-name=value", ["-server.port=7001"]],
    ["--name=value", ["--server.port=7001"]],
    ["--name value", ["--server.port", "7001"]],
  ])("%s is accepted", (_form, argv) => {
    expect(config(parseConfig(argv, {})).serverPort).toBe(7001);
  });

  test("a value may itself contain =", () => {
    expect(config(parseConfig(["-cluster.secret=a=b=c"], {})).clusterSecret).toBe("a=b=c");
  });

  test("-name= gives an empty value that still beats the env", () => {
    expect(config(parseConfig(["-cluster.secret="], { CLUSTER_SECRET: "from-env" })).clusterSecret).toBe("");
  });

  test.each([["-h"], ["--help"], ["-help"]])("%s asks for the usage, which lists every flag", (flag) => {
    const result = parseConfig([flag], {});
    expect(result.ok).toBe(false);
    const help = "help" in result ? result.help : "";
    for (const s of Object.values(SETTINGS)) {
      expect(help).toContain(`-${s.flag}`);
      expect(help).toContain(s.env);
    }
  });
});

describe("derived values", () => {
  test.each([
    [["-server.port", "7001"], {}, "http://localhost:7001"],
    [[], { SERVER_PORT: "7002" }, "http://localhost:7002"],
    [[], {}, "http://localhost:8484"],
    [["-server.port", "80"], {}, "http://localhost"],
  ])("with %j and env %j NODE_URL defaults to %s", (argv, env, url) => {
    expect(config(parseConfig(argv, env)).nodeUrl).toBe(url);
  });

  test("a given NODE_URL is not replaced by the port-derived default", () => {
    expect(config(parseConfig(["-server.port", "7001"], { NODE_URL: "http://127.0.0.5:8484" })).nodeUrl).toBe("http://127.0.0.5:8484");
  });

  test.each([
    ["the explicit NODE_URL", ["-node.url", "http://127.0.0.1:1", "-node.peers", "http://127.0.0.1:1,http://127.0.0.2:2"], ["http://127.0.0.2:2"]],
    ["the port-derived NODE_URL", ["-server.port", "7001", "-node.peers", "http://localhost:7001,http://localhost:7002"], ["http://localhost:7002"]],
    ["self written with a trailing slash or upper case", ["-node.url", "http://localhost:1", "-node.peers", "HTTP://LocalHost:1/,http://127.0.0.2:2"], ["http://127.0.0.2:2"]],
    ["self on the default port 80", ["-server.port", "80", "-node.peers", "http://localhost:80,http://127.0.0.2:2"], ["http://127.0.0.2:2"]],
  ])("self is removed from NODE_PEERS: %s", (_name, argv, peers) => {
    expect(config(parseConfig(argv, {})).nodePeers).toEqual(peers);
  });

  test("repeated peers are listed once", () => {
    expect(config(parseConfig(["-node.peers", "http://127.0.0.1:1,http://127.0.0.1:1/,,http://127.0.0.2:2"], {})).nodePeers).toEqual(["http://127.0.0.1:1", "http://127.0.0.2:2"]);
  });
});

describe("bad values", () => {
  test.each([
    ["a non-numeric port flag", ["-server.port", "abc"], {}, ["-server.port", '"abc"', "an integer from 1 to 65535"]],
    ["port 0", ["-server.port", "0"], {}, ["-server.port", '"0"', "an integer from 1 to 65535"]],
    ["port 70000 from the env", [], { SERVER_PORT: "70000" }, ["SERVER_PORT", '"70000"', "an integer from 1 to 65535"]],
    ["a fractional port", ["-server.port=80.5"], {}, ["-server.port", '"80.5"', "an integer"]],
    ["an unknown backend from the env", [], { STORE_BACKEND: "nosuch" }, ["STORE_BACKEND", '"nosuch"', "memory, fs, sqlite"]],
    ["an unknown backend flag", ["--store.backend=postgres"], {}, ["-store.backend", '"postgres"', "memory, fs, sqlite"]],
    ["a malformed node URL", ["-node.url", "not a url"], {}, ["-node.url", '"not a url"', "an http or https URL"]],
    ["a node URL with a path", [], { NODE_URL: "http://127.0.0.1:1/api" }, ["NODE_URL", '"http://127.0.0.1:1/api"', "no path"]],
    ["a node URL with a query", ["-node.url", "http://127.0.0.1:1?x=1"], {}, ["-node.url", '"http://127.0.0.1:1?x=1"', "no path"]],
    ["a node URL of another scheme", ["-node.url", "ftp://127.0.0.1:1"], {}, ["-node.url", '"ftp://127.0.0.1:1"', "http or https"]],
    ["a malformed peer", [], { NODE_PEERS: "http://127.0.0.1:1,nonsense" }, ["NODE_PEERS", '"http://127.0.0.1:1,nonsense"', "comma-separated URLs"]],
    ["negative virtual nodes", ["-node.routing.virtual-nodes", "-1"], {}, ["-node.routing.virtual-nodes", '"-1"', "an integer from 0 to 4096"]],
    ["too many virtual nodes", [], { VIRTUAL_NODES: "100000" }, ["VIRTUAL_NODES", '"100000"', "an integer from 0 to 4096"]],
    ["an unknown sync mode", [], { SQLITE_SYNC: "off" }, ["SQLITE_SYNC", '"off"', "normal, full"]],
    ["an empty data dir flag", ["-data.dir="], {}, ["-data.dir", '""', "a non-empty value"]],
    ["a sample ratio above 1", [], { OTEL_SAMPLE_RATIO: "1.5" }, ["OTEL_SAMPLE_RATIO", '"1.5"', "a decimal from 0 to 1"]],
    ["a sample ratio given as a percentage", ["-otel.sample-ratio", "10%"], {}, ["-otel.sample-ratio", '"10%"', "a decimal from 0 to 1"]],
    ["a malformed OTLP endpoint", [], { OTEL_ENDPOINT: "127.0.0.1:4318" }, ["OTEL_ENDPOINT", '"127.0.0.1:4318"', "http or https URL"]],
    ["zero replicas", ["-node.replication-factor", "0"], {}, ["-node.replication-factor", '"0"', "an integer from 1 to 16"]],
    ["an unknown log level", ["-log.level", "loud"], {}, ["-log.level", '"loud"', "debug, info, warn, error"]],
    ["a stale timeout not above the gossip interval", [], { GOSSIP_INTERVAL_MS: "3000" }, ["GOSSIP_STALE_AFTER_MS", '"3000"', "more than GOSSIP_INTERVAL_MS"]],
    ["a dead timeout not above the stale timeout", ["-gossip.dead-after-ms", "2000"], {}, ["GOSSIP_DEAD_AFTER_MS", '"2000"', "more than GOSSIP_STALE_AFTER_MS"]],
    ["a write quorum above the replication factor", [], { WRITE_QUORUM: "4" }, ["WRITE_QUORUM", '"4"', "at most REPLICATION_FACTOR (3)"]],
    ["a read quorum above the replication factor", ["-node.read-quorum", "2", "-node.replication-factor", "1"], {}, ["READ_QUORUM", '"2"', "at most REPLICATION_FACTOR (1)"]],
    ["a peer timeout of 5 ms", ["-node.peer-timeout-ms", "5"], {}, ["-node.peer-timeout-ms", '"5"', "an integer from 10 to 120000"]],
    ["a peer timeout of 5 ms by its former flag", ["-node.forward-timeout-ms", "5"], {}, ["-node.forward-timeout-ms", '"5"', "an integer from 10 to 120000"]],
    ["a peer timeout of 5 ms by its former env name", [], { FORWARD_TIMEOUT_MS: "5" }, ["FORWARD_TIMEOUT_MS", '"5"', "an integer from 10 to 120000"]],
    ["a host with a scheme in ALLOWED_HOSTS", [], { ALLOWED_HOSTS: "http://db.example.com" }, ["ALLOWED_HOSTS", "without scheme or port"]],
    ["an origin with a path in CORS_ORIGINS", ["-server.cors-origins", "https://app.example.com/x"], {}, ["-server.cors-origins", "no path"]],
    ["a clock skew of 0", [], { MAX_CLOCK_SKEW_MS: "0" }, ["MAX_CLOCK_SKEW_MS", '"0"', "an integer from 1"]],
  ])("%s is refused with a message naming the setting, the value and what is accepted", (_name, argv, env, parts) => {
    const message = errorOf(parseConfig(argv, env));
    for (const part of parts) expect(message).toContain(part);
    expect(message).not.toContain("\n");
  });

  test.each([
    ["a non-ASCII secret", "sécret"],
    ["a secret with a control character", "a\u0001b"],
  ])("%s is refused, naming CLUSTER_SECRET but never echoing it", (_name, secret) => {
    const message = errorOf(parseConfig([], { CLUSTER_SECRET: secret }));
    expect(message).toContain("CLUSTER_SECRET");
    expect(message).toContain("printable ASCII");
    expect(message).not.toContain(secret.trim());
  });

  test("a bad flag value is reported even when the env holds a good one", () => {
    expect(errorOf(parseConfig(["-server.port", "abc"], { SERVER_PORT: "7001" }))).toContain("-server.port");
  });

  test("a good flag value hides a bad env value", () => {
    expect(config(parseConfig(["-server.port", "7001"], { SERVER_PORT: "abc" })).serverPort).toBe(7001);
  });

  test("an unknown flag is refused, naming it and the accepted flags", () => {
    const message = errorOf(parseConfig(["-server.prot", "8484"], {}));
    expect(message).toContain('"-server.prot"');
    expect(message).toContain("-server.port");
    expect(message).toContain("-store.backend");
  });

  test.each([
    ["a word after the settings", ["-server.port", "7001", "extra"], '"extra"'],
    ["a word alone", ["start"], '"start"'],
    ["a lone dash", ["-"], '"-"'],
    ["a double dash", ["--", "-server.port", "1"], '"--"'],
  ])("a leftover positional argument is refused: %s", (_name, argv, word) => {
    const message = errorOf(parseConfig(argv, {}));
    expect(message).toContain(word);
    expect(message).toContain("-name value");
  });

  test("a flag with no value is refused, naming the flag", () => {
    const message = errorOf(parseConfig(["-node.url", "http://127.0.0.1:1", "-server.port"], {}));
    expect(message).toContain("-server.port");
    expect(message).toContain("needs a value");
  });
});

describe("the real process", () => {
  /** The environment minus every LimeDB setting, so the machine running the tests cannot change the outcome. */
  function cleanEnv(extra: Record<string, string>): Record<string, string> {
    const names = new Set(Object.values(SETTINGS).map((s) => s.env));
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (!names.has(key) && value !== undefined) env[key] = value;
    return { ...env, ...extra };
  }

  test.each([
    ["a bad flag", ["-server.port", "abc"], {}, ["-server.port", '"abc"']],
    ["a bad env value", [], { STORE_BACKEND: "nosuch" }, ["STORE_BACKEND", '"nosuch"']],
  ])("%s stops it with exit code 2 and one line on stderr naming the setting and the value", async (_name, args, env, parts) => {
    const child = Bun.spawn([process.execPath, "src/main.ts", ...args], { cwd: REPO_ROOT, env: cleanEnv(env), stdout: "pipe", stderr: "pipe" });
    const [code, stderr, stdout] = await Promise.all([child.exited, new Response(child.stderr).text(), new Response(child.stdout).text()]);
    expect(code).toBe(2);
    const lines = stderr.split("\n").filter((line) => line.trim() !== "");
    expect(lines).toHaveLength(1);
    for (const part of parts) expect(lines[0]).toContain(part);
    expect(stdout).toBe("");
  });
});

describe("a renamed setting", () => {
  test("PEER_TIMEOUT_MS is still taken as FORWARD_TIMEOUT_MS and -node.forward-timeout-ms; the new env name wins over the old", () => {
    const timeout = (argv: string[], env: Record<string, string>) => {
      const result = parseConfig(argv, env);
      if (!result.ok) throw new Error("expected a config");
      return result.config.peerTimeoutMs;
    };
    expect(timeout([], { FORWARD_TIMEOUT_MS: "3000" })).toBe(3000);
    expect(timeout(["-node.forward-timeout-ms", "150"], {})).toBe(150);
    expect(timeout([], { FORWARD_TIMEOUT_MS: "3000", PEER_TIMEOUT_MS: "4000" })).toBe(4000);
    expect(timeout(["-node.forward-timeout-ms", "150"], { PEER_TIMEOUT_MS: "4000" })).toBe(150);
  });
});
