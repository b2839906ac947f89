// What a node's Bun process is started with besides its settings: every launcher LimeDB has sets it (the package
// scripts, the Dockerfile, `bun run cluster`, the tests' and the benches' spawners); test/deploy checks they agree.

/**
 * Bun's allocator (its mimalloc fork) discards the free blocks inside pages still in use ("holes", madvise) each
 * time a thread goes idle, and each 4 KiB page of them comes back with a page fault when it is used again. A node
 * that serves a peer goes idle between two bus frames, so it paid that on every frame, and on the bench VM (2 vCPU,
 * Firecracker) a fault is dear. MIMALLOC_PURGE_HOLES=0 turns only that off: pages that are wholly free still go
 * back to the system after the allocator's purge delay (100 ms), so large buffers (a hostile peer's 50 MiB answers,
 * a range stream) do not stay resident. Forwarded GET, memory, 2 nodes, wrk -c64 (alternated runs, faults.sh):
 * the owner's CPU per request 4.5–6.3 µs against 7.0–8.9 µs, page faults per request 0.01–0.03 against 0.09–0.12;
 * a peer answering with 50 MiB bodies (test/security/huge-peer-answer.test.ts) raised RSS by 47–53 MiB against
 * 32–48 MiB. (MIMALLOC_PURGE_DELAY=-1, which keeps every freed page, cut the faults to 0 too but raised that
 * RSS by 135–139 MiB.) A node's own setting in its environment wins over this one.
 */
export const NODE_PROCESS_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_HOLES: "0" };

/** A node's environment: NODE_PROCESS_ENV, then what `base` (the launcher's own environment) sets, then `extra`. */
export function nodeProcessEnv(base: Readonly<Record<string, string | undefined>>, extra: Readonly<Record<string, string>> = {}): Record<string, string | undefined> {
  return { ...NODE_PROCESS_ENV, ...base, ...extra };
}
