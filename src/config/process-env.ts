// What a node's Bun process is started with besides its settings: every launcher LimeDB has sets it (the package
// scripts, the Dockerfile, `bun run cluster`, the tests' and the benches' spawners); test/deploy checks they agree.

/**
 * Bun's allocator (mimalloc) gives memory that has been free for 10 ms back to the system (madvise) and takes each
 * 4 KiB page back with a page fault when it is used again. Every request and bus frame churns such pages, and on the
 * bench VM (2 vCPU, Firecracker) a fault is dear. A forwarded GET (memory, 2 nodes, wrk -c64, alternated runs of
 * /tmp/cpu/faults.sh) cost its owner 3.8–5.3 µs of CPU without purging against 5.8–8.8 µs with it, at 0.00–0.01
 * page faults per request against 0.06–0.11. Bulk work gains more: at 1M keys per node (BENCH_SCALE_KEYS=1000000
 * bun bench/run.ts scale, same commit, MIMALLOC_PURGE_DELAY=10 against this) a fourth node's join took 33.6 s against
 * 41.1 s, re-replication after a removal 19.4 s against 35.6 s, repairing 1 % divergence 2.3 s against 3.9 s.
 * The price is memory: the process keeps the most it ever held. There the largest node peaked at 292 MB RSS against
 * 242 MB (the scale target is 300 MB); 200k SETs then 200k GETs on one memory node (/tmp/cpu/rss.sh) peaked at
 * 167 MB and stayed there, where with purging they peaked at 202 MB and fell back to 109 MB once idle. A node's own
 * setting in its environment wins over this one: MIMALLOC_PURGE_DELAY=10 is Bun's default.
 */
export const NODE_PROCESS_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: "-1" };

/** A node's environment: NODE_PROCESS_ENV, then what `base` (the launcher's own environment) sets, then `extra`. */
export function nodeProcessEnv(base: Readonly<Record<string, string | undefined>>, extra: Readonly<Record<string, string>> = {}): Record<string, string | undefined> {
  return { ...NODE_PROCESS_ENV, ...base, ...extra };
}
