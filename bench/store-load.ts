// Shared store load: backends in temp dirs, preloaded keys, ever-newer records, and the get/put steps every store bench runs.
import { join } from "node:path";
import type { SqliteSyncMode, StoreBackendName } from "../src/config/settings.ts";
import type { Backend, BackendOptions } from "../src/store/backend.ts";
import { FsBackend } from "../src/store/fs.ts";
import { MemoryBackend } from "../src/store/memory.ts";
import type { StoredRecord } from "../src/store/record.ts";
import { SqliteBackend } from "../src/store/sqlite.ts";
import { BATCH_ITEMS_MAX } from "../src/store/turn-batch.ts";
import { tempDir } from "./cleanup.ts";
import { indexStream, type Rate } from "./load-loop.ts";

/** Concurrent puts per step: what a node under load hands the group-commit batcher at once. */
export const GROUP_PUTS = 64;
export const VALUE = "v".repeat(64);
/**
 * Preloading submits this many concurrent puts at a time: one full batch of the group-commit batcher,
 * the fewest commits (for fs, whole-file rewrites) the Backend interface allows, and a point between
 * commits where a bounded preload can stop.
 */
const PRELOAD_CHUNK = BATCH_ITEMS_MAX;
const SEED = 0x5702e;

const OPTIONS: BackendOptions = { valueBytesMax: 1024 * 1024, clock: Date.now };

export interface OpenStore extends AsyncDisposable {
  readonly store: Backend;
}

/** A backend in its own temp dir; disposing closes it and removes the dir. */
export async function openStore(kind: StoreBackendName, sync: SqliteSyncMode = "normal"): Promise<OpenStore> {
  const dir = await tempDir();
  const store: Backend =
    kind === "memory"
      ? new MemoryBackend(OPTIONS)
      : kind === "fs"
        ? new FsBackend({ ...OPTIONS, path: join(dir.path, "store.json") })
        : new SqliteBackend({ ...OPTIONS, path: join(dir.path, "store.sqlite"), sync });
  return {
    store,
    async [Symbol.asyncDispose]() {
      try {
        await store.close();
      } finally {
        await dir[Symbol.asyncDispose]();
      }
    },
  };
}

export function keyNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `key-${String(i).padStart(6, "0")}`);
}

/** Records with ever-growing versions, so every put wins last-write-wins and really writes. */
export function recordMaker(node: string): (key: string) => StoredRecord {
  const wallMs = Date.now();
  let counter = 0;
  return (key) => ({ key, value: VALUE, version: { wallMs, counter: ++counter, node }, tombstone: false, expiresAtMs: undefined });
}

/** Puts every key, a batch at a time, until done or `boundMs` has passed; returns how many keys it wrote. */
export async function preload(store: Backend, keys: readonly string[], make: (key: string) => StoredRecord, boundMs = Number.POSITIVE_INFINITY): Promise<number> {
  const deadline = performance.now() + boundMs;
  let written = 0;
  while (written < keys.length && performance.now() < deadline) {
    const chunk = keys.slice(written, written + PRELOAD_CHUNK);
    await Promise.all(chunk.map((key) => store.put(make(key))));
    written += chunk.length;
  }
  return written;
}

/** The three loads every store gets; each step reports how many operations it did. */
export interface Steps {
  readonly get: () => Promise<number>;
  readonly putGrouped: () => Promise<number>;
  readonly putSingle: () => Promise<number>;
}

/** The node name in every bench record's version. */
export const BENCH_NODE = "http://127.0.0.1:1";

/** A preloaded store and its load steps; `chunk` operations per sequential step keep clock reads out of the cost. */
export async function loadedSteps(store: Backend, keyCount: number, chunk: number): Promise<Steps> {
  const keys = keyNames(keyCount);
  const make = recordMaker(BENCH_NODE);
  await preload(store, keys, make);
  return steps(store, keys, make, chunk);
}

/** Load steps over `keys`, which the store must already hold; `make` must be the maker the preload used, so versions keep growing. */
export function steps(store: Backend, keys: readonly string[], make: (key: string) => StoredRecord, chunk: number): Steps {
  const pick = indexStream(keys.length, SEED);
  return {
    get: async () => {
      for (let i = 0; i < chunk; i++) {
        const key = keys[pick()]!;
        if ((await store.get(key)) === undefined) throw new Error(`bench: preloaded key ${key} is missing from the ${store.kind} store`);
      }
      return chunk;
    },
    putGrouped: async () => {
      const puts: Promise<unknown>[] = [];
      for (let i = 0; i < GROUP_PUTS; i++) puts.push(store.put(make(keys[pick()]!)));
      await Promise.all(puts);
      return GROUP_PUTS;
    },
    putSingle: async () => {
      for (let i = 0; i < chunk; i++) await store.put(make(keys[pick()]!));
      return chunk;
    },
  };
}

export function rateDetail(rate: Rate): string {
  return `${rate.ops} ops in ${(rate.elapsedMs / 1000).toFixed(2)} s`;
}
