// Composition root: config -> store -> ring -> node -> http -> listen. Nothing else builds real parts.
import pkg from "../package.json" with { type: "json" };
import { parseConfig } from "./config/parse.ts";
import { createApp } from "./http/app.ts";
import { createLogger, describeError } from "./log/logger.ts";
import { HybridClock } from "./node/hlc.ts";
import { LimeNode } from "./node/node.ts";
import { Gossiper } from "./membership/gossiper.ts";
import { MemberTable } from "./membership/member-table.ts";
import { PeerClient } from "./node/peer-client.ts";
import type { Backend } from "./store/backend.ts";
import { openBackend, storePath } from "./store/open-backend.ts";

/** Exit codes for a bad setting (SPEC §3), a store that cannot open and a port that cannot be bound. */
const EXIT_BAD_CONFIG = 2;
const EXIT_STORE_FAILED = 1;
const EXIT_LISTEN_FAILED = 1;
/** Gossip answers within this even at tiny intervals; below it a loaded machine would drop every exchange. */
const GOSSIP_TIMEOUT_MS_MIN = 50;

const parsed = parseConfig(Bun.argv.slice(2), process.env);
if (!parsed.ok) {
  if ("help" in parsed) {
    console.log(parsed.help);
    process.exit(0);
  }
  console.error(`limedb: ${parsed.error.message}`);
  process.exit(EXIT_BAD_CONFIG);
}
const config = parsed.config;
const logger = createLogger(config.nodeUrl, config.logLevel);

let store: Backend;
try {
  store = openBackend({
    kind: config.storeBackend,
    dataDir: config.dataDir,
    nodeUrl: config.nodeUrl,
    sqliteSync: config.sqliteSync,
    valueBytesMax: config.valueBytesMax,
    clock: Date.now,
  });
  await store.check();
} catch (error) {
  logger.log("error", "store failed to open", describeError(error));
  console.error(`limedb: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(EXIT_STORE_FAILED);
}

// The generation is the start time: a restarted node's news supersedes everything its old self said.
const members = new MemberTable(config.nodeUrl, Date.now(), Date.now, {
  staleAfterMs: config.gossipStaleAfterMs,
  deadAfterMs: config.gossipDeadAfterMs,
});
const peerClient = new PeerClient({
  secret: config.clusterSecret,
  forwardTimeoutMs: config.forwardTimeoutMs,
  // A gossip exchange must end before the next round starts.
  gossipTimeoutMs: Math.max(GOSSIP_TIMEOUT_MS_MIN, Math.floor(config.gossipIntervalMs * 0.8)),
});
const gossiper = new Gossiper({ table: members, transport: peerClient, seeds: config.nodePeers, random: Math.random });
members.onChange((changes) => {
  for (const change of changes) logger.log("info", "membership changed", { member: change.nodeUrl, from: change.from, to: change.to });
});

const node = new LimeNode({
  nodeUrl: config.nodeUrl,
  store,
  members,
  peers: peerClient,
  vnodesPerNode: config.virtualNodes,
  clock: new HybridClock(config.nodeUrl),
  wallClock: Date.now,
  valueBytesMax: config.valueBytesMax,
  replicationFactor: config.replicationFactor,
});

const app = createApp(node, {
  version: pkg.version,
  gossip: gossiper,
  secret: config.clusterSecret,
  clock: Date.now,
  onInternalError: (error, request) => logger.log("error", "request failed", { method: request.method, path: new URL(request.url).pathname, ...describeError(error) }),
});
// Elysia turns on SO_REUSEPORT by default, which lets a second node bind a port already in use and
// silently split that port's traffic between two stores; a port that is taken must stop the start.
try {
  app.listen({ port: config.serverPort, hostname: config.serverHost, reusePort: false });
} catch (error) {
  logger.log("error", "cannot listen", { listen: `${config.serverHost}:${config.serverPort}`, ...describeError(error) });
  console.error(`limedb: cannot listen on ${config.serverHost}:${config.serverPort}: ${error instanceof Error ? error.message : String(error)}`);
  await store.close();
  process.exit(EXIT_LISTEN_FAILED);
}

gossiper.start(config.gossipIntervalMs);

logger.log("info", "node started", {
  version: pkg.version,
  listen: `${config.serverHost}:${config.serverPort}`,
  store: config.storeBackend,
  storePath: storePath({ kind: config.storeBackend, dataDir: config.dataDir, nodeUrl: config.nodeUrl }),
  virtualNodes: config.virtualNodes,
  peers: config.nodePeers,
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.log("info", "node stopping", { signal });
  gossiper.stop();
  await app.stop();
  await store.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
