// Writes bench/README.md and bench/chart.svg from one full run: what the figures mean, how to run, this run's chart and tables, machine and commands.
import { join } from "node:path";
import { chartPanels, chartSvg } from "./chart.ts";
import type { PartResult } from "./figures.ts";
import type { Machine } from "./machine.ts";
import { PART_TITLES, markdownTable } from "./report.ts";

export const README_PATH = join(import.meta.dir, "README.md");
/** Beside the README, which embeds it by this relative name. */
export const CHART_PATH = join(import.meta.dir, "chart.svg");

const MEANINGS = `- **Ring.** \`ownerOf\` and \`replicasOf(…, 3)\` on a ring of 4 nodes × 256 vnodes (1,024 points), over 4,096
  precomputed keys, measured with mitata: the median ns per call, best of two alternating rounds (the
  mean, dragged up by other processes' bursts and by GC, and p99 are in the detail). The baseline is
  \`Bun.hash.xxHash64\` of the same keys alone, so the ratio says how many hashes a lookup costs and the
  detail gives the nanoseconds the binary search adds beyond the hash. The target for \`ownerOf\` is ≤ 150 ns.
  The build figure is one \`buildRing\` of 4 × 256 against hashing its 1,024 point names alone.
  **Balance** is each node's share of the same ring, in percent, against an even share (1/4 = 25 %): of the
  hash space (the exact sizes of the ranges its points own, from src/ring/ranges.ts) and of 100,000 keys
  counted by \`ownerOf\`. The rows give the largest and the smallest node's share; their ratio, largest ÷
  smallest, is in the detail (1.00× would be perfect balance).
- **Store.** Operations per second through the \`Backend\` interface, in process, each load run for a fixed
  time (0.7 s, in two rounds alternating with the other backends, after a 0.15 s warm-up), over 1k, 10k or
  100k preloaded keys picked by a seeded random stream. Each backend is grown in place from one size to the
  next through \`put\`, 1,024 concurrent puts at a time (one full group-commit batch, the fewest commits the
  interface allows), and each growth is bounded to 20 s: a backend that does not reach the size in time gets a
  row marked not measured, with the number of keys it reached, instead of holding up the run; the notes give
  each growth's time. fs, whose every batch rewrites the whole file, reached 75k to 90k keys in those 20 s in
  trial runs on this machine, so its 100k rows are normally not measured. Puts overwrite
  existing keys with newer versions, so every put really writes. "64 concurrent" issues
  64 puts and awaits them together, as a node under load does, so the group-commit batcher commits them
  as one transaction (fs: one file rewrite); "one at a time" awaits each put before the next. Baseline:
  the memory backend on the same load. sqlite here runs at its default, \`synchronous=NORMAL\`. fs reads
  the whole file per get and rewrites it per batch (O(n) by design), so its loops are bounded in time only.
- **SQLite puts.** \`SqliteBackend\` at \`sync: "normal"\` and \`sync: "full"\`, grouped and one at a time,
  against a naive \`bun:sqlite\` loop (WAL, \`synchronous=FULL\`, one \`INSERT OR REPLACE\` per autocommit
  transaction): what a store without group commit gets at full durability. 1k keys, 0.7 s per figure in two
  alternating rounds after a 0.2 s warm-up.
- **HTTP.** Requests/s from \`wrk -t2 -c64 --latency\` against one node started as
  its own process (\`bun src/main.ts …\`, memory store, sqlite at NORMAL and at FULL), against a raw
  \`Bun.serve\` process (bench/raw-server.ts) that answers the same shapes from a Map: a GET of a
  preloaded key returning \`{"value","nodeUrl"}\` and a POST of a JSON body answering \`OK\`. GETs cycle
  over 1,000 preloaded keys; SETs write 64-byte values over a 10,000-key space. All servers run at once
  (idle but for the one under load); each gets a 3 s warm-up per shape (WARMUP_S in bench/wrk.ts: JSC's last tier is still compiling 2–3 s into a load), then two 2 s runs in rotation
  (raw, memory, NORMAL, FULL, the three telemetry rows, redis, raw, …), and a figure is the mean of its two runs
  (latency p50/p99 likewise). wrk runs on the same 2 cores as the server, so absolute figures are low; the ratios
  are the point. **Telemetry rows**: the memory node with \`-otel.endpoint\` set, at the default export interval
  (5 s, or sooner when 512 spans are waiting): to a stand-in OTLP collector in the bench process that reads every
  export and answers at once (bench/otlp-sink.ts), tracing every request and tracing 1% of them
  (\`-otel.sample-ratio 0.01\`); and to a port nothing listens on, as when the collector is down. The notes
  compare them with the memory node without telemetry.
  **redis-server (reference)** is a reference row, not a baseline: \`redis-server\` without persistence
  (\`--save '' --appendonly no\`, its own temp dir, a free port on 127.0.0.1, stopped at the end and on Ctrl-C)
  with the 1,000 GET keys written by one MSET, loaded by \`redis-benchmark -c 64 --threads 2 -d 64 --csv\`
  (\`-t get -r 1000\`, \`-t set -r 10000\`: the same concurrency, value size and key spaces as the wrk loads).
  redis-benchmark runs a request count, so \`-n\` is the previous run's rate times 2 s (the warm-up's, 3 s at an
  assumed 20,000 req/s); requests/s, p50 and p99 come from its CSV. Its ratio to raw Bun.serve is for scale
  only: RESP over TCP does no HTTP parsing, routing or JSON, and another load generator drives it. Without
  \`redis-server\` and \`redis-benchmark\` on PATH the row says it was skipped.
- **Cluster, forwarding.** Two 2-node clusters (memory, and sqlite at NORMAL) and one standalone memory node,
  each node its own process on 127.0.0.1 with default gossip settings and one copy of each key
  (\`-node.replication-factor 1\`, so a key has one owner and a request is either answered or forwarded; the
  replication part measures more copies against this); the bench waits until both nodes of
  a cluster list each other. It splits \`bench-0\`, \`bench-1\`, … by owner with \`buildRing\` + \`ownerOf\` from
  src/ring over the same URLs and 256 vnodes, preloads 1,000 keys of each list through node A and checks that
  a GET's \`nodeUrl\` names the expected owner. wrk (\`-t2 -c64\`, bench/wrk-keys.lua reading a key file) always
  targets node A: **direct** keys are owned by A (the baseline), **forwarded** keys by B, so A sends each request
  one hop to B on the bus (the turn's reads or writes to B merged into one call in one frame) and relays the
  answer. GETs cycle over the 1,000 preloaded keys of a
  list, SETs write 64-byte values over 5,000 keys of a list. The standalone node gets the direct list, so it
  shows what being in a cluster costs a node on keys it owns. **The raw pair** (bench/raw-forward.ts) is the
  floor of a hop in Bun on this machine: a bare Bun.serve front that answers its own keys from a Map (split by
  the same ring over its two URLs) and sends the turn's other GETs and SETs in one JSON message over one Bun
  WebSocket to a bare Bun.serve owner, which answers them in order in one message: no request ids, deadlines,
  secret, versions, schema checks or metrics. Its ratio is what a hop costs before anything LimeDB adds; the
  nodes' ratios are read against it. Each load has a 3 s warm-up per shape (WARMUP_S), then two
  2 s runs in rotation (memory direct, forwarded, standalone, raw direct, forwarded, sqlite direct, forwarded); a
  figure is the mean of its runs. wrk and all seven servers share the same 2 cores, so the ratio is the hop's CPU
  cost, not network latency.
- **Cluster, gossip.** A 4-node memory cluster at the default gossip timing (interval 1,000 ms, stale after
  3,000, dead after 5,000) and one at a 200 ms interval with the timeouts scaled alike (600, 1,000). In each
  trial a new node starts seeded with one member (a different one each trial); the bench polls the new node's
  health and every member's \`/api/v1/cluster/state\` every 20 ms until all 4 list it in \`peers\`, timed from the
  spawn and from the first health 200 (the spawn time includes starting Bun; the second can be a few ms below
  zero, as a node gossips the moment it listens, before the next health poll). Then it kills the new node with
  \`kill -9\` and polls until all 4 report it \`dead\`. 3 trials at 1,000 ms and 5 at 200 ms; the figure is the
  median, the detail gives the max and every run. The baselines here are configured settings, not measurements:
  a join divided by the gossip interval is a count of intervals, a death divided by the dead timeout says how
  far past the timeout the last member noticed. Times are as seen by polling, so they are good to about 20 ms
  plus one request; news that misses a bound of 30 intervals is reported as LOST.
- **Cluster, bus transport.** The bus's own frames (bench/bus-echo.ts in another process answers every
  frame of calls with a frame of replies) carried over a WebSocket as the bus runs them, and over
  plain TCP with a 4-byte length before each frame (Bun.listen/Bun.connect); 64 callers, each waiting
  for its reply before its next call, the calls of one event-loop turn in one frame; 2 s runs after a
  0.5 s warm-up, twice each in rotation. The ratio is why the bus rides a WebSocket (README, "The bus").
- **Replication, throughput.** For each backend (memory, then sqlite at NORMAL) three clusters run side by
  side: the baseline, one node alone; three nodes at one copy (\`-node.replication-factor 1\`, quorums 1); and
  three nodes at three copies with \`-node.replication-factor 3 -node.write-quorum 2 -node.read-quorum 2\`. The bench checks the quorums each reports
  in \`/api/v1/cluster/state\`, preloads \`bench-0\` … \`bench-999\` through node A, and aims wrk (\`-t2 -c64\`,
  bench/wrk-keys.lua) at node A only, over keys of every owner: at one copy A owns about a third of them and
  forwards the rest one hop, at three copies A holds every key, writes to the other two and reads one of them (a digest read). GETs
  cycle over the 1,000 preloaded keys, SETs write 64-byte values over 5,000 keys. A 3 s warm-up per cluster and
  shape, then two 2 s runs in rotation (one node, one copy, three copies, one node, …); a figure is the mean of its runs,
  p50 and p99 likewise, and the detail gives the three-copy p50 and p99 as multiples of one node's.
- **Replication, replica puts by backend.** Where a replicated write's cost lies: a memory node and a sqlite
  node (NORMAL), each alone, get replica puts straight on their bus from another process
  (bench/replica-put-load.ts: 64 calls in flight, each caller waiting for its answer, 64-byte values over 5,000
  keys), a 3 s warm-up each, then two 2 s runs in rotation. Puts/s against the memory node, and in the detail the
  CPU each server spent per put (user + system, and system alone, from /proc/PID/stat): the memory node's figure
  is the bus and the replica path; the sqlite node's difference is its store, which three copies pay three times.
- **Replication, re-replication after a kill -9.** A 4-node memory cluster at three copies (W=2, R=2) with a
  short gossip timing (interval 200 ms, stale after 800, dead after 1,600) is loaded with 10,000 keys through
  all four nodes by 64 concurrent writers; that load time is the baseline of the second group. The bench waits
  until no node is rebalancing or holds a hint and a sample of 500 keys (seeded random; \`SEED=…\` replays another)
  shows 3 replicas each in \`GET /api/v1/replicas/:key\`, then kills the fourth node with \`kill -9\` and polls
  the three survivors' \`/api/v1/cluster/state\` every 20 ms. **Dead at all** is when the last survivor lists
  the node \`dead\`; **every key on 3 live replicas** is when every survivor is idle again, meaning it holds the
  node dead, \`replication.rebalance\` is not \`running\`, it has finished a pass since the kill and that pass
  reached every target, confirmed by the 500 keys each listing 3 live replicas (none the killed node, none with
  an error) and by each survivor's key count (with 3 survivors and 3 copies each must hold all 10,000). If that
  check fails at first it is repeated every 100 ms and the time is when it passed. The first group sets the
  times from the kill against the configured dead timeout; the second sets the time after the last detection,
  scaled to 10k keys, against loading the same keys through the API. One run; the detail gives each survivor's
  pass time, the records it streamed (and its pass count when its ring changed more than once), the time from
  its own detection to its pass's end, and the time from the first detection, when streaming can begin.
- **Scale.** Three sqlite nodes at RF=3 (W=2, R=2), default settings (gossip 1 s, anti-entropy every 10 s,
  256 vnodes), holding N = 100k and then 1M keys each with 100-byte values. The keys are loaded **through the
  store**, not the API: one SQL transaction writes them into one file in ring order (the table's own order), which is then
  opened once through \`SqliteBackend\` (it finds no saved segment digests and rebuilds them from the records:
  the "digest rebuild after a crash" row) and copied to the three nodes' data folders (then \`sync\`) before they start; at RF=3
  on three nodes every node holds every key. Then, in order: **idle CPU** of each node over 60 s from
  /proc/PID/stat (utime + stime) after a 5 s settle, with the records rebalancing streamed meanwhile (none expected); **health** latency, 200 sequential
  \`GET /api/v1/health\` on node A; **anti-entropy** as node B runs it against node A, played by the bench from a
  copy of B's file through the real \`AntiEntropy\` and \`PeerClient\` code over HTTP, bytes counted both ways:
  10 rounds between identical replicas (bytes per round, and node A's CPU per round), then after 1 % of the keys
  were made newer on B's side only, rounds until no segment differs (total bytes, rounds, records pushed); the
  newer records are then put on nodes B and C too, so the figures after it meet a calm cluster;
  **writes**, \`wrk -t2 -c16\` SETs of 100-byte values for 10 s on node A, against the same three-node cluster
  started empty in the same run (the baseline); a **4th node joins** seeded with A: the time from its spawn until
  every node lists all four and each old node finished a rebalancing pass that reached every target, and the keys
  it then holds; **kill -9** of the third node: the time until both other old nodes and the new one hold it dead
  and finished a pass; **peak RSS** is each node's VmHWM before its end. Last, **loading through the API**:
  200,000 distinct keys SET through the three nodes of a fresh cluster by 64 concurrent clients in the bench
  process, counting every answer that was not 200. Targets in the details are those of the scale issue. One run
  per size; wrk and the bench share the 2 cores with the nodes.
- **Chart** (chart.svg, drawn by bench/chart.ts from the same figures): the HTTP part's GET and SET requests/s per
  server, and the replication part's reads and writes per second at node A at one copy and at three, per backend.
  Bars share a linear scale within a panel; the tables hold the ratios and the latencies.
- A figure shown as — was not measured; its detail says why (skipped, past its bound, or news LOST).`;

const RUNNING = `\`\`\`sh
bun run bench              # everything (ring, store, http, cluster, replication, scale; about 12 minutes), prints the tables, rewrites this README and chart.svg
bun run bench ring         # one part (or several: bun run bench ring store); prints only, README and chart untouched
bun run bench store        # memory, fs and sqlite at 1k, 10k and 100k keys, and SQLite durability (about 50 s)
bun run bench http         # one node against raw Bun.serve, with redis as a reference (about 55 s)
bun run bench cluster      # forwarded vs direct requests on 2 nodes and on the raw pair, join and death times of gossip on 4 (about 2 minutes)
bun run bench replication  # three copies vs one on 3 nodes, re-replication of 10k keys after a kill -9 on 4 (about 65 s when idle)
bun run bench scale        # 3 sqlite nodes at RF=3 with 100k and 1M keys each (about 6 minutes)
BENCH_SCALE_KEYS=20000 BENCH_SCALE_IDLE_MS=10000 BENCH_SCALE_LOAD_KEYS=5000 bun run bench scale   # a quick trial of the scale part
BENCH_HTTP_S=1 bun run bench http   # shorter wrk runs (seconds per run, default 2) for a quick look
BENCH_CLUSTER_S=1 bun run bench cluster   # the same for the cluster part's wrk runs
BENCH_REPLICATION_S=3 bun run bench replication   # longer wrk runs for the replication part (default 2)
\`\`\`
The HTTP part, the forwarding half of the cluster part and the throughput half of the replication part need
\`wrk\` (\`apt-get install -y wrk\`); without it they are skipped with a note. The HTTP part's redis reference row
needs \`redis-server\` and \`redis-benchmark\` (\`apt-get install -y redis-server redis-tools\`); without them that
row says it was skipped.
Servers listen on 127.0.0.1 only on free ports; temporary data dirs are removed at the end, and on Ctrl-C.`;

export interface RunRecord {
  readonly results: readonly PartResult[];
  readonly machine: Machine;
  readonly totalMs: number;
}

function machineSection(machine: Machine): string {
  return [
    `- CPU: ${machine.cpu}, ${machine.cores} logical cores`,
    `- Memory: ${machine.memoryGiB.toFixed(1)} GiB`,
    `- OS: ${machine.os}`,
    `- Bun: ${machine.bun}; ${machine.tools}`,
    `- Date: ${machine.date}`,
    `- 1-minute load average at start: ${machine.loadAtStart.toFixed(2)}`,
    "",
    "The machine is shared: other processes (test suites run by other people) may have been using the same",
    "2 cores during the run, so absolute figures move from run to run by tens of percent. A ratio compares",
    "figures measured in alternating rounds seconds apart, so drift in that load falls on both sides of it;",
    "that is why ratios are reported rather than raw speed. Compare ratios, not absolute figures, across runs.",
  ].join("\n");
}

export function readmeText(run: RunRecord): string {
  const tables = run.results.map((r) => `### ${PART_TITLES[r.part]} (${(r.elapsedMs / 1000).toFixed(0)} s)\n\n${markdownTable(r)}`).join("\n\n");
  const notes = run.results.flatMap((r) => r.notes).map((n) => `- ${n}`).join("\n");
  const commands = ["bun run bench", ...run.results.flatMap((r) => r.commands)];
  return `# LimeDB benchmarks

Generated by \`bun run bench\` (bench/readme.ts) on ${run.machine.date.slice(0, 10)}; the whole run took
${(run.totalMs / 1000).toFixed(0)} s. Do not edit by hand: the next full run rewrites this file. Every speed is a
ratio against a baseline measured in the same run (gossip and re-replication times are given against the
configured interval or dead timeout, or against a load time measured in the same run); figures are from a shared
2-core machine.

## How to run

${RUNNING}

## What each figure means

${MEANINGS}

## This run

![Requests per second: one node against raw Bun.serve and redis, and three copies against one on three nodes](chart.svg)

${tables}

## Interpretation

${notes}

## Machine

${machineSection(run.machine)}

## Commands run

\`\`\`sh
${commands.join("\n")}
\`\`\`
`;
}

function chartText(run: RunRecord): string {
  const m = run.machine;
  return chartSvg(chartPanels(run.results), `bun run bench, ${m.date.slice(0, 10)}: ${m.cpu}, ${m.cores} cores, shared; ratios and latencies in README.md`);
}

export async function writeReadme(run: RunRecord): Promise<void> {
  await Bun.write(CHART_PATH, chartText(run));
  await Bun.write(README_PATH, readmeText(run));
}
