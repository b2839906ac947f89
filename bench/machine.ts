// What the figures were measured on: CPU, cores, memory, OS, Bun, date and the load when the run began.
import { readFileSync } from "node:fs";
import os from "node:os";
import { redisVersion } from "./redis.ts";

export interface Machine {
  readonly cpu: string;
  /** wrk, mitata and redis versions, so a figure can be traced to the tools that made it. */
  readonly tools: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly bun: string;
  readonly date: string;
  /** 1-minute load average at the start; above 0 means other work shared the CPUs. */
  readonly loadAtStart: number;
}

/** The first value of a /proc/cpuinfo field, e.g. "model name" or "cpu MHz". */
function cpuField(info: string, field: string): string | undefined {
  const line = info.split("\n").find((l) => l.split(":")[0]?.trim() === field);
  const value = line?.slice(line.indexOf(":") + 1).trim();
  return value === "" ? undefined : value;
}

/** The model name from /proc/cpuinfo, with family, model and clock, which tell apart CPUs a VM names alike. */
function cpuModel(): string {
  let info: string;
  try {
    info = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return os.cpus()[0]?.model ?? "unknown";
  }
  const name = cpuField(info, "model name") ?? os.cpus()[0]?.model ?? "unknown";
  const family = cpuField(info, "cpu family");
  const model = cpuField(info, "model");
  const mhz = cpuField(info, "cpu MHz");
  const extra = [family && `family ${family}`, model && `model ${model}`, mhz && `${Math.round(Number(mhz))} MHz`].filter(Boolean);
  return extra.length === 0 ? name : `${name} (${extra.join(", ")})`;
}

function toolVersions(): string {
  const wrk = Bun.which("wrk") === null ? "wrk not installed" : (Bun.spawnSync(["wrk", "-v"]).stdout.toString().split("\n")[0]?.split(" [")[0]?.trim() ?? "wrk");
  let mitata = "mitata ?";
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../node_modules/mitata/package.json", import.meta.url), "utf8"));
    mitata = `mitata ${String((pkg as { version?: unknown }).version)}`;
  } catch {
    // Reported as unknown rather than failing the run.
  }
  const redis = redisVersion();
  return `${wrk}, ${mitata}, ${redis === undefined ? "redis not installed" : `redis-server and redis-benchmark ${redis}`}`;
}

export function describeMachine(): Machine {
  return {
    cpu: cpuModel(),
    tools: toolVersions(),
    cores: os.cpus().length,
    memoryGiB: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    bun: `${Bun.version} (${Bun.revision.slice(0, 9)})`,
    date: new Date().toISOString(),
    loadAtStart: os.loadavg()[0] ?? 0,
  };
}
