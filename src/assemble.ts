// Composition root: config -> store -> ring -> node -> http -> listen, as one function. Nothing else builds real
// parts: main.ts calls it for the process, and a test may call it to run nodes in its own process.
import pkg from "../package.json" with { type: "json" };
import type { Config } from "./config/settings.ts";
import { bodyBytesMax, createApp } from "./http/app.ts";
import { createLogger, describeError, type Logger } from "./log/logger.ts";
import { HybridClock } from "./node/hlc.ts";
import { LimeNode } from "./node/node.ts";
import { Gossiper } from "./membership/gossiper.ts";
import { MemberTable } from "./membership/member-table.ts";
import { Background } from "./node/background.ts";
import { HINT_DROP_REASONS, HintStore } from "./node/hint-store.ts";
import { BusTransport, STREAM_TIMEOUT_MS } from "./node/bus-transport.ts";
import { nodeScan } from "./node/scan.ts";
import { RespCommands } from "./resp/commands.ts";
import { serveResp } from "./resp/server.ts";
import { errorReplyBody, PeerService } from "./node/peer-service.ts";
import { peerOpOf } from "./node/peer-wire.ts";
import { tellAll, type PeerTransport } from "./node/peer-transport.ts";
import { serveNode } from "./http/serve.ts";
import { hostPolicy } from "./http/host-check.ts";
import { fastGet } from "./http/kv/fast-get.ts";
import { fastSet } from "./http/kv/fast-set.ts";
import { Replication } from "./node/replication.ts";
import { fileStem } from "./store/file-name.ts";
import { join } from "node:path";
import type { Backend } from "./store/backend.ts";
import { openBackend, storePath } from "./store/open-backend.ts";
import { clusterFigures, NodeMetrics, UNMATCHED_ROUTE } from "./metrics/node-metrics.ts";
import { TimedBackend } from "./metrics/timed-backend.ts";
import { countPeerCalls } from "./metrics/peer-call-metrics.ts";
import { FutureBound, type FutureKind } from "./clock/future-bound.ts";
import { throttled } from "./log/throttle.ts";
import { observeReachability, Reachability } from "./node/reachability.ts";
import { PauseWatch } from "./node/pause-watch.ts";
import { LEAVE_STALL_MS, waitForHandOff } from "./node/hand-off-wait.ts";
import { EXPIRED_VALUE_KEPT_MS_MIN } from "./store/record.ts";
import { NodeError } from "./node/errors.ts";


/** Exit codes for a store that cannot open and a port that cannot be bound. */
const EXIT_STORE_FAILED = 1;
const EXIT_LISTEN_FAILED = 1;
/** Gossip rounds run at once when leaving, so the cluster drops this node from its rings before the hand-off. */
const LEAVE_GOSSIP_ROUNDS = 2;
/** Gossip answers within this even at tiny intervals; below it a loaded machine would drop every exchange. */
const GOSSIP_TIMEOUT_MS_MIN = 50;
/** Spans and metrics still queued at a stop are sent within this, or lost; the stop never waits longer. */
const TELEMETRY_SHUTDOWN_MS = 2_000;

/** Why a node could not start, with the exit code the process ends with. */
export class StartError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface AssembleOptions {
  /** Where the node logs; left out, JSON lines on stdout at the configured level. */
  readonly logger?: Logger;
  /** Called once the node has stopped (main ends the process there). */
  readonly onStopped?: () => void;
}

export interface AssembledNode {
  readonly url: string;
  /** The port it listens on (the configured one, or the one picked for port 0). */
  readonly port: number;
  /** Stops the node; with `leave`, gracefully: it drops out of every ring and hands its data off first. */
  stop(reason: string, leave: boolean): Promise<void>;
}

/** Builds and starts a node from its settings; throws StartError when its store cannot open or its port cannot be bound. */
export async function assembleNode(config: Config, options: AssembleOptions = {}): Promise<AssembledNode> {
  const logger = options.logger ?? createLogger(config.nodeUrl, config.logLevel);

  // Only with OTEL_ENDPOINT set: without it the SDK is not even loaded, and no request, peer call or
  // store operation pays for telemetry.
  const telemetry =
    config.otelEndpoint === ""
      ? undefined
      : (await import("./telemetry/telemetry.ts")).startTelemetry({
          endpoint: config.otelEndpoint,
          exportIntervalMs: config.otelExportIntervalMs,
          sampleRatio: config.otelSampleRatio,
          nodeUrl: config.nodeUrl,
          version: pkg.version,
          // Monotonic, so a wall clock stepped back cannot silence the reports for as long as the step.
          clock: () => performance.now(),
          onExportError: (error, suppressed) => logger.log("warn", "telemetry export failed", { endpoint: config.otelEndpoint, suppressed, ...describeError(error) }),
        });
  const metrics = new NodeMetrics();
  const nowMs = () => performance.now();
  /** Refusals of wall times from the future are logged at most this often; /metrics counts every one. */
  const CLOCK_REFUSAL_LOG_INTERVAL_MS = 60_000;
  const logClockRefusal = throttled<{ kind: FutureKind; aheadMs: number }>(
    ({ kind, aheadMs }, suppressed) => logger.log("warn", "refused a wall time from the future", { kind, aheadMs, maxClockSkewMs: config.maxClockSkewMs, suppressed }),
    CLOCK_REFUSAL_LOG_INTERVAL_MS,
    nowMs,
  );
  // Every version, generation and heartbeat that arrives is held to this bound before any clock sees it.
  const future = new FutureBound({
    maxSkewMs: config.maxClockSkewMs,
    clock: Date.now,
    onRefused: (kind, aheadMs) => {
      metrics.clockRefused.inc({ kind });
      logClockRefusal({ kind, aheadMs });
    },
  });
  let store: Backend;
  try {
    // Every store operation is timed by backend for /metrics; two clock reads per operation.
    store = new TimedBackend(openBackend({
      kind: config.storeBackend,
      dataDir: config.dataDir,
      nodeUrl: config.nodeUrl,
      sqliteSync: config.sqliteSync,
      valueBytesMax: config.valueBytesMax,
      clock: Date.now,
      expiredValueKeptMs: Math.max(EXPIRED_VALUE_KEPT_MS_MIN, 2 * config.maxClockSkewMs),
      onCommitWait: (ms) => {
        metrics.commitWaits.inc();
        metrics.commitWaitSeconds.inc({}, ms / 1000);
      },
    }), metrics);
    await store.check();
  } catch (error) {
    logger.log("error", "store failed to open", describeError(error));
    throw new StartError(EXIT_STORE_FAILED, error instanceof Error ? error.message : String(error));
  }

  /**
   * Since when (monotonic) this node's clock has read off its peers' by more than the skew, or undefined. Writes are
   * refused only once that held for the stale time: an estimate read from a peer whose loop was busy for a moment
   * (measured: 613 ms off, from one peer, for under a second while it took 60 MiB of hints) is no step of the clock.
   * A step of this node's own clock, measured exactly, is refused at once (see refusal).
   */
  let clockOffSinceMs: number | undefined;
  /** When (monotonic) a replica last refused this node's own write as from the future: its clock is suspect from then. */
  let versionRefusedAtMs = Number.NEGATIVE_INFINITY;

  // The generation is the start time: a restarted node's news supersedes everything its old self said.
  // Gossip from beyond the skew is refused; a clock of this node's own that is off from its peers' is logged once
  // when found (and once when back), and shown in GET /api/v1/health.
  const members = new MemberTable(
    config.nodeUrl,
    Date.now(),
    Date.now,
    { staleAfterMs: config.gossipStaleAfterMs, deadAfterMs: config.gossipDeadAfterMs },
    {
      future,
      seeds: config.nodePeers,
      // Silence is measured on the monotonic clock; a gap longer than the stale time is this node's own pause.
      monotonic: nowMs,
      pauseAfterMs: config.gossipStaleAfterMs,
      onClockChange: ({ status, offsetMs, peers }) => {
        clockOffSinceMs = status === "ok" ? undefined : nowMs();
        if (status === "ok") logger.log("info", "clock back within the skew of its peers", { offsetMs, peers, maxClockSkewMs: config.maxClockSkewMs });
        else logger.log("warn", `clock ${status} of its peers beyond the skew; check NTP on this machine`, { offsetMs, peers, maxClockSkewMs: config.maxClockSkewMs });
      },
    },
  );
  // What the hybrid clock may issue: judged by the peers' clocks as the clock check reads them, so the versions it
  // issues while this node's clock is ahead of theirs are not gone on from after the step. It refuses nothing: what
  // a node takes is judged by its own clock (a bound judged by its peers' made an isolated node, its estimates stale
  // or one-way, refuse good versions after the heal: 3 of 5 runs of SEED=3527212175 --faults isolate did not converge).
  const issueBound = new FutureBound({ maxSkewMs: config.maxClockSkewMs, clock: Date.now, clockAheadMs: () => members.lastClockReading().offsetMs });
  // Peers whose calls got no answer are skipped by requests and background work until a probe reaches them,
  // whatever gossip says (a partition bridged by one node lets gossip call a peer alive that cannot be reached).
  const reachability = new Reachability({
    now: nowMs,
    probe: (target) => peers.ping(target),
    onChange: (target, down) => logger.log(down ? "warn" : "info", down ? "peer unreachable; requests skip it until it answers" : "peer reachable again", { peer: target }),
  });
  const observeReach = observeReachability(reachability);
  // Everything this node says to its peers travels on the bus: one persistent, authenticated connection per peer.
  const peers: PeerTransport = new BusTransport({
    self: config.nodeUrl,
    secret: config.clusterSecret,
    now: nowMs,
    callTimeoutMs: config.peerTimeoutMs,
    // A gossip exchange must end before the next round starts.
    gossipTimeoutMs: Math.max(GOSSIP_TIMEOUT_MS_MIN, Math.floor(config.gossipIntervalMs * 0.8)),
    valueBytesMax: config.valueBytesMax,
    // The table hears only confirmed members and seeds: an unconfirmed one probed here could answer any clock.
    onPeerClock: (peer, peerWallMs, sentAtMs) => members.observeClock(peer, peerWallMs, sentAtMs),
    observe: telemetry?.peerCalls,
    listen: tellAll(observeReach, countPeerCalls(metrics, nowMs)),
  });
  const gossiper = new Gossiper({
    table: members,
    transport: peers,
    seeds: config.nodePeers,
    random: Math.random,
    removeDeadAfterMs: config.removeDeadAfterMs,
    onRemoved: (urls) => logger.log("warn", "removed members dead for longer than REMOVE_DEAD_AFTER_MS; their ranges get new replicas", { members: urls, removeDeadAfterMs: config.removeDeadAfterMs }),
  });
  /** A down peer, for requests and background work: held dead by gossip, or not answering this node's calls. */
  const isDown = (url: string) => members.isDead(url) || reachability.isDown(url);
  // After a pause (SIGSTOP, a frozen VM) the node coordinates nothing until a gossip round has refreshed its view.
  const pauseWatch = new PauseWatch({
    now: nowMs,
    pauseAfterMs: config.gossipStaleAfterMs,
    refresh: async (pausedMs) => {
      logger.log("warn", "this process was paused; refreshing its view of the cluster before it coordinates again", { pausedMs: Math.round(pausedMs) });
      await gossiper.freshRound();
    },
  });
  /**
   * Why this node must not coordinate a write because its own clock stepped: a step since a majority last read it
   * right is exact (no peer's estimate in it), so it is refused at once, before a version from the step goes to a
   * peer whose clock stepped with it, and whatever the peers it still hears say (two clocks that stepped together
   * read each other as right). Two clock reads: a write asks again once its version is made.
   */
  function stepRefusal(): string | undefined {
    const stepMs = members.clockStepMs();
    if (Math.abs(stepMs) <= config.maxClockSkewMs) return undefined;
    return `this node's clock stepped ${Math.abs(stepMs)} ms ${stepMs > 0 ? "ahead" : "back"} since a majority of its cluster last read it as right, beyond MAX_CLOCK_SKEW_MS (${config.maxClockSkewMs} ms): it coordinates no write until its clock is back (check NTP); other nodes take writes`;
  }
  /** Why this node must not coordinate a request of this kind now: a pause not yet refreshed, or (writes) a clock beyond the skew. */
  function refusal(kind: "read" | "write"): string | undefined {
    const paused = pauseWatch.refusal();
    if (paused !== undefined) return paused;
    // A minority side that outlasts half the automatic removal's wait fences itself before the majority can hand its
    // ranges to others: from then on it would be serving keys whose replicas the other side may have replaced.
    const minorityMs = members.minorityForMs();
    if (config.removeDeadAfterMs > 0 && minorityMs >= config.removeDeadAfterMs / 2) {
      return `this node has not seen a majority of its cluster for ${Math.round(minorityMs / 1000)} s; the majority may remove the members it cannot see (REMOVE_DEAD_AFTER_MS), so it coordinates nothing until it sees a majority again`;
    }
    if (kind === "read") return undefined;
    const stepped = stepRefusal();
    if (stepped !== undefined) return stepped;
    const clock = members.lastClockReading();
    if (clock.status === "ok" || clockOffSinceMs === undefined || nowMs() - clockOffSinceMs < config.gossipStaleAfterMs) return undefined;
    return `this node's clock runs ${Math.abs(clock.offsetMs)} ms ${clock.status} of its peers', beyond MAX_CLOCK_SKEW_MS (${config.maxClockSkewMs} ms): it coordinates no write until its clock is back within it (check NTP); other nodes take writes`;
  }
  members.onChange((changes) => {
    for (const change of changes) {
      if (change.to === "removed") {
        reachability.forget(change.nodeUrl);
        peers.forget(change.nodeUrl);
      }
      const leaving = members.get(change.nodeUrl)?.leaving ?? false;
      logger.log("info", leaving ? "member leaving" : "membership changed", { member: change.nodeUrl, from: change.from, to: change.to });
    }
  });

  const hints = new HintStore(config.storeBackend === "memory" ? ":memory:" : join(config.dataDir, `${fileStem(config.nodeUrl)}.hints.sqlite`), Date.now, {
    onDrop: (reason, count) => metrics.hintsDropped.inc({ reason }, count),
  });
  // Every reason shows from the start, at 0, so a dashboard sees a rise rather than a series appearing.
  for (const reason of HINT_DROP_REASONS) metrics.hintsDropped.inc({ reason }, 0);
  if (config.storeBackend === "sqlite") {
    // Shown from the start, at 0: a sqlite node's commits have not waited yet.
    metrics.commitWaits.inc({}, 0);
    metrics.commitWaitSeconds.inc({}, 0);
  }
  const replication = new Replication({
    self: config.nodeUrl,
    store,
    peers,
    hints,
    timeoutMs: config.peerTimeoutMs,
    now: nowMs,
    future,
    onError: (what, error) => logger.log("error", `${what} failed`, describeError(error)),
    isDown,
    onSilent: (replicas) => {
      for (const replica of replicas) reachability.failed(replica);
    },
    clockSuspect: () => members.lastClockReading().status !== "ok" || nowMs() - versionRefusedAtMs < config.gossipStaleAfterMs,
    onVersionRefused: () => {
      versionRefusedAtMs = nowMs();
    },
  });
  const node = new LimeNode({
    nodeUrl: config.nodeUrl,
    store,
    members,
    replication,
    vnodesPerNode: config.virtualNodes,
    clock: new HybridClock(config.nodeUrl, Date.now, () => future.limitMs(), () => issueBound.limitMs()),
    wallClock: Date.now,
    valueBytesMax: config.valueBytesMax,
    replicationFactor: config.replicationFactor,
    writeQuorum: config.writeQuorum,
    readQuorum: config.readQuorum,
    // Only once every member its peers told it of is confirmed (each waits until this node has gossiped with it):
    // before that its ring lacks them, and it would read and write on the wrong replicas.
    joined: () => config.nodePeers.every((seed) => seed === config.nodeUrl) || (members.list().length > 1 && members.awaitedCount() === 0),
    refusal,
    stepRefusal,
    isDown,
    acceptsWallMs: (wallMs) => future.accepts("version", wallMs),
  });
  const background = new Background({
    node,
    store,
    hints,
    client: peers,
    streamTimeoutMs: STREAM_TIMEOUT_MS,
    antiEntropyIntervalMs: config.antiEntropyIntervalMs,
    tombstoneTtlMs: config.tombstoneTtlMs,
    // Gossip brings in every live member well within the time it takes to call a silent one dead.
    hintForgetAfterMs: config.gossipDeadAfterMs,
    random: Math.random,
    clock: Date.now,
    onPass: (report) => {
      if (report.streamed > 0 || report.dropped > 0 || report.failedTargets.length > 0) logger.log("info", "rebalanced", { ...report });
    },
    onError: (what, error) => logger.log("error", `${what} failed`, describeError(error)),
    onDigestsCorrected: (segments) =>
      logger.log("warn", "store digests disagreed with the records (lost or changed outside LimeDB); corrected, anti-entropy repairs them", { segments }),
    detach: telemetry?.detach,
    future,
    isDown,
    leaving: () => members.own.leaving,
  });

  const figures = () =>
    clusterFigures(members.list(), background.status(), gossiper.roundCount, { majority: members.majority().majority, unreachablePeers: reachability.downPeers().length });
  telemetry?.exportMetrics(() => metrics.families(figures()));

  const clusterScan = nodeScan(node, background.replicas, peers, Date.now);
  // The route template, never the path: a path can carry a key, and keys stay out of the log.
  const reportInternal = (error: unknown, request: Request, route: string | undefined) =>
    logger.log("error", "request failed", { method: request.method, route: route ?? UNMATCHED_ROUTE, ...describeError(error) });
  const app = createApp(node, {
    version: pkg.version,
    gossip: gossiper,
    replicas: background.replicas,
    scan: clusterScan,
    status: () => background.status(),
    leave: () => void stop("leave request", true),
    secret: config.clusterSecret,
    trust: { allowedHosts: config.allowedHosts, corsOrigins: config.corsOrigins },
    clock: Date.now,
    onInternalError: reportInternal,
    metrics: { metrics, figures, nowMs },
    tracing: telemetry?.requests,
    onAnswered: config.logLevel === "debug" ? (answered) => logger.log("debug", "request answered", { ...answered, route: answered.route ?? UNMATCHED_ROUTE }) : undefined,
  });
  // The bus's calls are answered by the same replica service and gossip handler as the internal HTTP routes.
  const peerService = new PeerService({
    replicas: background.replicas,
    gossip: gossiper,
    clock: Date.now,
    onUnexpected: (error) => logger.log("error", "a peer's call failed", describeError(error)),
    onItems: (op, outcome, count) => metrics.recordServed(op, outcome, count),
  });
  const hostAllowed = hostPolicy({ nodeUrl: config.nodeUrl, allowedHosts: config.allowedHosts });
  // GET and SET of a key skip the framework unless tracing or the debug log wants every request through the app's hooks.
  const fastPaths = telemetry === undefined && config.logLevel !== "debug";
  let server: ReturnType<typeof serveNode>;
  try {
    server = serveNode({
      port: config.serverPort,
      hostname: config.serverHost,
      handle: (request) => app.handle(request),
      fast: fastPaths ? [fastSet({ node, hostAllowed, metrics, nowMs, wallMs: Date.now, bodyBytesMax: bodyBytesMax(node.valueBytesMax), app: (request) => app.handle(request), onInternalError: reportInternal })] : undefined,
      get: fastPaths ? fastGet({ node, hostAllowed, metrics, nowMs, wallMs: Date.now, app: (request) => app.handle(request) }) : undefined,
      hostAllowed,
      bus: {
        secret: config.clusterSecret,
        handle: (call) => {
          const op = peerOpOf(call.op);
          const handled = telemetry === undefined || op === undefined ? peerService.handle(call.op, call.body) : telemetry.peerServing.run(op, call.trace, () => peerService.handle(call.op, call.body));
          return handled.then(
            (answer) => {
              metrics.recordServed(op ?? "unknown", "ok");
              return answer;
            },
            (error: unknown) => {
              metrics.recordServed(op ?? "unknown", error instanceof NodeError ? error.code : "internal");
              throw error;
            },
          );
        },
        errorBody: (error) => {
          if (!(error instanceof NodeError)) logger.log("error", "a peer's call failed", describeError(error));
          return errorReplyBody(error, Date.now());
        },
        onRefused: throttled<string>((reason, suppressed) => logger.log("warn", "refused a bus connection", { reason, suppressed }), CLOCK_REFUSAL_LOG_INTERVAL_MS, nowMs),
      },
    });
  } catch (error) {
    logger.log("error", "cannot listen", { listen: `${config.serverHost}:${config.serverPort}`, ...describeError(error) });
    await store.close();
    throw new StartError(EXIT_LISTEN_FAILED, `cannot listen on ${config.serverHost}:${config.serverPort}: ${error instanceof Error ? error.message : String(error)}`);
  }

  let resp: ReturnType<typeof serveResp> | undefined;
  if (config.redisPort !== 0) {
    try {
      resp = serveResp({
        hostname: config.serverHost,
        port: config.redisPort,
        valueBytesMax: config.valueBytesMax,
        commands: new RespCommands({
          node,
          scan: clusterScan,
          passwords: [config.redisPassword, config.clusterSecret].filter((password) => password !== ""),
          authRequired: config.redisPassword !== "",
          wallClock: Date.now,
          info: () => ({
            replication: { role: "master", connected_slaves: 0, limedb_replication_factor: config.replicationFactor, limedb_write_quorum: config.writeQuorum, limedb_read_quorum: config.readQuorum, limedb_members: members.list().length },
          }),
          onInternalError: (error, command) => logger.log("error", "a Redis command failed", { command, ...describeError(error) }),
        }),
        onRefused: throttled<string>((reason, suppressed) => logger.log("warn", "closed a Redis connection", { reason, suppressed }), CLOCK_REFUSAL_LOG_INTERVAL_MS, nowMs),
      });
    } catch (error) {
      logger.log("error", "cannot listen", { listen: `${config.serverHost}:${config.redisPort}`, ...describeError(error) });
      await server.stop(true);
      await store.close();
      throw new StartError(EXIT_LISTEN_FAILED, `cannot listen on ${config.serverHost}:${config.redisPort} (REDIS_PORT): ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  gossiper.start(config.gossipIntervalMs);
  background.start();
  pauseWatch.start();

  logger.log("info", "node started", {
    version: pkg.version,
    listen: `${config.serverHost}:${config.serverPort}`,
    store: config.storeBackend,
    storePath: storePath({ kind: config.storeBackend, dataDir: config.dataDir, nodeUrl: config.nodeUrl }),
    virtualNodes: config.virtualNodes,
    peers: config.nodePeers,
    telemetry: config.otelEndpoint === "" ? "off" : config.otelEndpoint,
    redis: resp === undefined ? "off" : `${config.serverHost}:${resp.port}`,
  });

  // A cluster without a secret trusts every program that can reach the port; say so once, where an operator looks.
  if (config.clusterSecret === "" && config.nodePeers.length > 0) {
    logger.log("warn", "no CLUSTER_SECRET: any program that can reach this port can call the internal routes (write or delete any key, add members, make this node leave); web pages cannot. Set the same CLUSTER_SECRET on every node", {
      listen: `${config.serverHost}:${config.serverPort}`,
    });
  }

  let stopping = false;
  let serving = true;
  /** Closes the HTTP and Redis ports and every connection on them, the peers' bus connections included; once. */
  async function stopServing(): Promise<void> {
    if (!serving) return;
    serving = false;
    resp?.stop(true);
    await server.stop(true);
  }
  /**
   * Stops the node. A graceful leave first marks it leaving (so every ring drops it), tells the
   * cluster at once, and streams its data to the new replicas for as long as the hand-off moves (hand-off-wait.ts).
   */
  async function stop(reason: string, leave: boolean): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.log("info", leave ? "node leaving" : "node stopping", { reason });
    if (leave) {
      members.setLeaving(true);
      for (let round = 0; round < LEAVE_GOSSIP_ROUNDS; round++) await gossiper.round();
      // Given up on: a target that is leaving too (it refuses copies: the cluster is being stopped) and one gossip holds
      // dead; what was meant for it stays on this node's disk (see keysLeft). One merely cut off is waited for.
      const down = (url: string) => members.get(url)?.leaving === true || members.isDead(url);
      const handOff = { delivered: () => background.rebalancer.progress.delivered, now: () => performance.now(), sleep: (ms: number) => Bun.sleep(ms) };
      const placed = await waitForHandOff(background.rebalancer.settle(down), handOff);
      // Nothing comes in any more (the peers' bus connections close too); what came in while the ranges were read goes out now.
      await stopServing();
      const drained = placed && (await waitForHandOff(background.rebalancer.drain(down), handOff));
      // Counted whatever the passes said: with every other node leaving too, the ring is empty and nothing was sent.
      const keysLeft = await store.count().catch(() => undefined);
      const status = { keysLeft, ...background.status().rebalance };
      if (drained && keysLeft === 0) logger.log("info", "data handed off", status);
      // Alone, or the whole cluster stopping: there is no node to hand off to, as on a plain stop.
      else if (node.ring.nodes.length === 0) logger.log("info", "no other node stays in the cluster: the data stays on this node's disk", status);
      else {
        logger.log(
          "warn",
          `hand-off incomplete (its targets are down or leaving too, or it moved nothing for ${LEAVE_STALL_MS / 1000} s): the keys left stay on this node's disk and are served again if it restarts; other replicas' anti-entropy repairs the copies they hold`,
          status,
        );
      }
    }
    gossiper.stop();
    pauseWatch.stop();
    background.stop();
    // Peers keep their bus connections open: a graceful stop would wait for them forever.
    peers.close();
    await stopServing();
    await store.close();
    hints.close();
    await telemetry?.shutdown(TELEMETRY_SHUTDOWN_MS);
    options.onStopped?.();
  }
  return { url: config.nodeUrl, port: server.port ?? config.serverPort, stop };

}
