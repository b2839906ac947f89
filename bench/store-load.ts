// Shared store load: backends in temp dirs, preloaded keys, ever-newer records, and the get/put steps every store bench runs.
import { join } from "node:path";
import type { SqliteSyncMode, StoreBackendName } from "../src/config/settings.ts";
import type { Backend, BackendOptions } from "../src/store/backend.ts";
import { FsBackend } from "../src/store/fs.ts";
import { MemoryBackend } from "../src/store/memory.ts";
import type { StoredRecord } from "../src/store/record.ts";
import { SqliteBackend } from "../src/store/sqlite.ts";
import { tempDir } from "./cleanup.ts";
import { indexStream, type Rate } from "./load-loop.ts";

/** Concurrent puts per step: what a node under load hands the group-commit batcher at once. */
export const GROUP_PUTS = 64;
export const VALUE = "v".repeat(64);
/** Preloading in pieces keeps each batch within the batcher's own bound. */
const PRELOAD_CHUNK = 1024;
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

export async function preload(store: Backend, keys: readonly string[], make: (key: string) => StoredRecord): Promise<void> {
  for (let i = 0; i < keys.length; i += PRELOAD_CHUNK) {
    await Promise.all(keys.slice(i, i + PRELOAD_CHUNK).map((key) => store.put(make(key))));
  }
}

/** The three loads every store gets; each step reports how many operations it did. */
export interface Steps {
  readonly get: () => Promise<number>;
  readonly putGrouped: () => Promise<number>;
  readonly putSingle: () => Promise<number>;
}

/** A preloaded store and its load steps; `chunk` operations per sequential step keep clock reads out of the cost. */
export async function loadedSteps(store: Backend, keyCount: number, chunk: number): Promise<Steps> {
  const keys = keyNames(keyCount);
  const make = recordMaker("http://127.0.0.1:1");
  await preload(store, keys, make);
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
