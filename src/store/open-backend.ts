// Picks and opens the backend STORE_BACKEND names, with its file under DATA_DIR named after NODE_URL.
import { join } from "node:path";
import type { SqliteSyncMode, StoreBackendName } from "../config/settings.ts";
import type { Backend, BackendOptions } from "./backend.ts";
import { fileStem } from "./file-name.ts";
import { FsBackend } from "./fs.ts";
import { MemoryBackend } from "./memory.ts";
import { SqliteBackend } from "./sqlite.ts";

export interface OpenOptions extends BackendOptions {
  readonly kind: StoreBackendName;
  readonly dataDir: string;
  readonly nodeUrl: string;
  readonly sqliteSync: SqliteSyncMode;
  /** The sqlite store's commits that waited for its log to start over, and how long (ms). */
  readonly onCommitWait?: (ms: number) => void;
}

/** Where a durable backend keeps its file; undefined for memory. */
export function storePath(options: Pick<OpenOptions, "kind" | "dataDir" | "nodeUrl">): string | undefined {
  switch (options.kind) {
    case "memory":
      return undefined;
    case "fs":
      return join(options.dataDir, `${fileStem(options.nodeUrl)}.json`);
    case "sqlite":
      return join(options.dataDir, `${fileStem(options.nodeUrl)}.sqlite`);
  }
}

export function openBackend(options: OpenOptions): Backend {
  const base = { valueBytesMax: options.valueBytesMax, clock: options.clock, expiredValueKeptMs: options.expiredValueKeptMs };
  switch (options.kind) {
    case "memory":
      return new MemoryBackend(base);
    case "fs":
      return new FsBackend({ ...base, path: storePath(options)! });
    case "sqlite":
      return new SqliteBackend({ ...base, path: storePath(options)!, sync: options.sqliteSync, onCommitWait: options.onCommitWait });
  }
}
