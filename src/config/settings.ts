// The one schema of every setting: env name, flag, default and parser. Flag > env > default.
import { homedir } from "node:os";
import { join } from "node:path";
import { MAX_CLOCK_SKEW_MS_DEFAULT } from "../clock/future-bound.ts";
import { fraction, headerSafeText, hostList, integer, nodeUrl, nodeUrlList, nonEmptyText, oneOf, optionalUrl, originList, type Parser } from "./values.ts";

export const STORE_BACKENDS = ["memory", "fs", "sqlite"] as const;
export type StoreBackendName = (typeof STORE_BACKENDS)[number];

export const SQLITE_SYNC_MODES = ["normal", "full"] as const;
export type SqliteSyncMode = (typeof SQLITE_SYNC_MODES)[number];

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The largest value a node accepts; SPEC §4 sets 1 MiB as the default. */
export const VALUE_BYTES_MAX_DEFAULT = 1024 * 1024;
/** A ceiling on the configurable value limit: beyond this a single request would strain one process. */
export const VALUE_BYTES_MAX_CEILING = 64 * 1024 * 1024;
/** Ring points per node; 256 keeps every node's share within a few percent of the mean. */
export const VIRTUAL_NODES_DEFAULT = 256;
/** A bound on ring points per node so that a rebuilt ring stays small (4,096 × 100 nodes ≈ 400k points). */
export const VIRTUAL_NODES_MAX = 4096;

interface Setting<T> {
  readonly env: string;
  readonly flag: string;
  readonly parse: Parser<T>;
  /** The default as the user would type it, or undefined when it derives from other settings. */
  readonly fallback: string | undefined;
  readonly help: string;
  /** A secret's value is never repeated in an error line: it would end up in a terminal or a log. */
  readonly secret?: boolean;
  /** The setting's former names, still taken (the new name wins when both are given). */
  readonly formerly?: { readonly env: string; readonly flag: string };
}

function setting<T>(env: string, flag: string, fallback: string | undefined, parse: Parser<T>, help: string, secret = false): Setting<T> {
  return { env, flag, parse, fallback, help, secret };
}

/** A setting renamed: its old env name and flag keep working. */
function renamed<T>(formerly: { env: string; flag: string }, current: Setting<T>): Setting<T> {
  return { ...current, formerly };
}

/**
 * An hour: far longer than a restart, a reboot or a partition of the kind a network has, during which the
 * member keeps its ranges and hints wait for it (moving its data away and back would cost two full streams
 * of its share), yet a machine that died for good has its copies restored within the hour without anyone
 * at a terminal. Only a node that sees a majority removes, so the minority side of a partition never does.
 */
export const REMOVE_DEAD_AFTER_MS_DEFAULT = 60 * 60 * 1000;

export const SETTINGS = {
  serverPort: setting("SERVER_PORT", "server.port", "8484", integer(1, 65535), "HTTP port"),
  serverHost: setting("SERVER_HOST", "server.host", "127.0.0.1", nonEmptyText, "address to listen on (0.0.0.0 for all interfaces)"),
  redisPort: setting("REDIS_PORT", "redis.port", "0", integer(0, 65535), "port this node also speaks the Redis protocol on (RESP2/RESP3, on SERVER_HOST); 0 turns it off"),
  redisPassword: setting("REDIS_PASSWORD", "redis.password", "", headerSafeText, "password Redis clients must AUTH with before any command (CLUSTER_SECRET is taken too); empty: no AUTH needed, as on the HTTP API", true),
  nodeUrl: setting("NODE_URL", "node.url", undefined, nodeUrl, "this node's public URL, its identity (default http://localhost:<port>)"),
  nodePeers: setting("NODE_PEERS", "node.peers", "", nodeUrlList, "comma-separated seed URLs; self is ignored"),
  virtualNodes: setting("VIRTUAL_NODES", "node.routing.virtual-nodes", String(VIRTUAL_NODES_DEFAULT), integer(0, VIRTUAL_NODES_MAX), "ring points per node; 0 means one point"),
  dataDir: setting("DATA_DIR", "data.dir", join(homedir(), ".limedb"), nonEmptyText, "where durable stores keep files"),
  storeBackend: setting("STORE_BACKEND", "store.backend", "sqlite", oneOf(STORE_BACKENDS), "memory, fs (strict JSON file) or sqlite"),
  sqliteSync: setting("SQLITE_SYNC", "store.sqlite.sync", "normal", oneOf(SQLITE_SYNC_MODES), "normal survives kill -9; full also survives power loss"),
  valueBytesMax: setting("VALUE_BYTES_MAX", "limits.value-bytes-max", String(VALUE_BYTES_MAX_DEFAULT), integer(1, VALUE_BYTES_MAX_CEILING), "largest value in UTF-8 bytes"),
  replicationFactor: setting("REPLICATION_FACTOR", "node.replication-factor", "3", integer(1, 16), "copies of each key (capped at cluster size)"),
  otelEndpoint: setting("OTEL_ENDPOINT", "otel.endpoint", "", optionalUrl, "OTLP/HTTP collector base URL (http://host:4318); empty disables telemetry"),
  otelExportIntervalMs: setting("OTEL_EXPORT_INTERVAL_MS", "otel.export-interval-ms", "5000", integer(50, 600_000), "milliseconds between telemetry exports to the collector"),
  otelSampleRatio: setting("OTEL_SAMPLE_RATIO", "otel.sample-ratio", "1", fraction, "share of client requests traced (0 to 1); a trace begun elsewhere follows its caller's choice"),
  logLevel: setting("LOG_LEVEL", "log.level", "info", oneOf(LOG_LEVELS), "debug, info, warn or error"),
  clusterSecret: setting("CLUSTER_SECRET", "cluster.secret", "", headerSafeText, "shared secret for internal endpoints (printable ASCII: it travels in a header); empty means none", true),
  allowedHosts: setting("ALLOWED_HOSTS", "server.allowed-hosts", "", hostList, "extra Host names this node answers to, comma-separated (its NODE_URL host and loopback always); * allows any"),
  corsOrigins: setting("CORS_ORIGINS", "server.cors-origins", "", originList, "extra origins whose pages may call the public API, comma-separated (members always); * allows any"),
  maxClockSkewMs: setting("MAX_CLOCK_SKEW_MS", "node.max-clock-skew-ms", String(MAX_CLOCK_SKEW_MS_DEFAULT), integer(1, 3_600_000), "largest clock difference tolerated between nodes; versions and gossip from further in the future are refused"),
  gossipIntervalMs: setting("GOSSIP_INTERVAL_MS", "gossip.interval-ms", "1000", integer(10, 60_000), "milliseconds between gossip rounds"),
  gossipStaleAfterMs: setting("GOSSIP_STALE_AFTER_MS", "gossip.stale-after-ms", "3000", integer(20, 600_000), "silence after which a member is stale (suspect)"),
  gossipDeadAfterMs: setting("GOSSIP_DEAD_AFTER_MS", "gossip.dead-after-ms", "5000", integer(30, 3_600_000), "silence after which a member is dead: requests skip it (its writes wait as hints) but it keeps its ranges"),
  removeDeadAfterMs: setting("REMOVE_DEAD_AFTER_MS", "gossip.remove-dead-after-ms", String(REMOVE_DEAD_AFTER_MS_DEFAULT), integer(0, 30 * 24 * 3600 * 1000), "a member dead this long is removed from the ring by a node that sees a majority, and its ranges get new replicas; 0: only `limedb remove`"),
  writeQuorum: setting("WRITE_QUORUM", "node.write-quorum", "0", integer(0, 16), "replicas that must acknowledge a write; 0 means a majority"),
  readQuorum: setting("READ_QUORUM", "node.read-quorum", "0", integer(0, 16), "replicas that must answer a read; 0 means a majority"),
  tombstoneTtlMs: setting("TOMBSTONE_TTL_MS", "store.tombstone-ttl-ms", String(24 * 3600 * 1000), integer(1000, 365 * 24 * 3600 * 1000), "how long a delete's tombstone, or an expired record, is kept before it is purged"),
  antiEntropyIntervalMs: setting("ANTI_ENTROPY_INTERVAL_MS", "node.anti-entropy-interval-ms", "10000", integer(100, 3_600_000), "milliseconds between anti-entropy exchanges"),
  peerTimeoutMs: renamed(
    { env: "FORWARD_TIMEOUT_MS", flag: "node.forward-timeout-ms" },
    setting("PEER_TIMEOUT_MS", "node.peer-timeout-ms", "2000", integer(10, 120_000), "bound on a call to another node and on a quorum (formerly FORWARD_TIMEOUT_MS)"),
  ),
} as const;

export type SettingName = keyof typeof SETTINGS;

type ValueOf<S> = S extends Setting<infer T> ? T : never;

export type Config = { readonly [K in SettingName]: ValueOf<(typeof SETTINGS)[K]> };
