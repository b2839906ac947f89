// The resp part: redis-benchmark -t get,set -c 64, one command per round trip and 16 pipelined, against a LimeDB
// node's Redis port and against redis-server in the same run (redis-server the baseline), in rotation.
import { tempDir } from "./cleanup.ts";
import { againstBaseline, type Figure, type PartResult } from "./figures.ts";
import { preloadGetKeys, redisInstalled, redisVersion, respLoad, startRedis, type RespLoad } from "./redis.ts";
import { freePort, REPO_ROOT, startServer } from "./server-process.ts";
import { measureInRotation, WARMUP_S, wrkDetail, type LoadResult, type LoadShape, type Rotation } from "./wrk.ts";

/** Seconds per run; BENCH_RESP_S lengthens it. */
const RUN_S = Number(process.env.BENCH_RESP_S ?? 2);
/** A warm-up per target (WARMUP_S), then two runs each, alternating. */
const ROTATION: Rotation = { warmupS: WARMUP_S, rounds: 2, runS: RUN_S };
const PIPELINES = [1, 16] as const;

interface Target {
  readonly name: string;
  readonly load: RespLoad;
}

export async function benchResp(): Promise<PartResult> {
  const started = performance.now();
  if (!redisInstalled()) {
    const note = "The resp part was skipped: redis-server and redis-benchmark are not both on PATH (apt-get install -y redis-server redis-tools).";
    console.warn(`bench: ${note}`);
    return { part: "resp", figures: [], notes: [note], commands: [], elapsedMs: performance.now() - started };
  }
  await using stack = new AsyncDisposableStack();
  const redis = await startRedis(stack);
  const dir = stack.use(await tempDir("limedb-bench-resp-"));
  const [httpPort, redisPort] = [freePort(), freePort()];
  const command = ["bun", "src/main.ts", "-server.port", String(httpPort), "-server.host", "127.0.0.1", "-node.url", `http://127.0.0.1:${httpPort}`, "-data.dir", dir.path, "-store.backend", "memory", "-redis.port", String(redisPort), "-log.level", "warn"];
  stack.use(await startServer(command, `http://127.0.0.1:${httpPort}`));
  await preloadGetKeys(`redis://127.0.0.1:${redisPort}`);
  const targets: Target[] = [
    { name: `redis-server ${redisVersion() ?? ""}`.trim(), load: redis },
    { name: "LimeDB memory node, REDIS_PORT", load: respLoad(redisPort) },
  ];
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const shape of ["get", "set"] as const satisfies readonly LoadShape[]) {
    for (const pipeline of PIPELINES) {
      const [base, limedb] = (await measureInRotation(targets, (target, seconds) => target.load.load(shape, seconds, pipeline), () => (text) => text, ROTATION)) as [LoadResult, LoadResult];
      const group = `${shape.toUpperCase()} · redis-benchmark -c 64${pipeline > 1 ? ` -P ${pipeline}` : ""}`;
      figures.push(...againstBaseline("resp", group, "req/s", { name: targets[0]!.name, value: base.requestsPerS, detail: wrkDetail(base) }, [{ name: targets[1]!.name, value: limedb.requestsPerS, detail: wrkDetail(limedb) }]));
      notes.push(`${group}: a LimeDB node serves ${(limedb.requestsPerS / base.requestsPerS).toFixed(2)}× redis-server's requests/s (${Math.round(limedb.requestsPerS)} against ${Math.round(base.requestsPerS)}).`);
    }
  }
  notes.push(
    "Both servers and redis-benchmark share this machine's two cores. redis-server keeps everything in one process's memory and answers from its event loop; a LimeDB node (memory store, a cluster of one) parses the same RESP, then runs each command through its coordinator (version, quorum of one, store), one command of a connection at a time.",
  );
  return {
    part: "resp",
    figures,
    notes,
    commands: [...redis.commands, command.join(" ").replaceAll(dir.path, "$TMP").replaceAll(`${REPO_ROOT}/`, "")],
    elapsedMs: performance.now() - started,
  };
}
