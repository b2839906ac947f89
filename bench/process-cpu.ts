// CPU a process has used, from /proc/PID/stat (Linux only): what the bench charges a server with per operation.
import { readFileSync } from "node:fs";

/** Linux clock ticks per second for /proc/PID/stat (USER_HZ, 100 on every mainstream kernel). */
const CLOCK_TICKS_PER_S = 100;

/** User and system CPU seconds of a process, all its threads; undefined where /proc cannot tell (not Linux). */
export function processCpu(pid: number): { user: number; system: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / CLOCK_TICKS_PER_S, system: Number(fields[12]) / CLOCK_TICKS_PER_S };
}

/** User plus system CPU seconds of a process; NaN where /proc cannot tell. */
export function cpuSeconds(pid: number): number {
  const cpu = processCpu(pid);
  return cpu === undefined ? Number.NaN : cpu.user + cpu.system;
}
