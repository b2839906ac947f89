// Everything a benchmark must undo (temp dirs, child processes), undone at scope end or on Ctrl-C.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pending = new Set<() => Promise<void>>();

/** Registers `undo` until the returned disposable runs it; Ctrl-C runs every registered undo. */
export function track(undo: () => Promise<void>): AsyncDisposable {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    pending.delete(once);
    await undo();
  };
  pending.add(once);
  return { [Symbol.asyncDispose]: once };
}

async function undoAll(): Promise<void> {
  await Promise.allSettled([...pending].map((undo) => undo()));
}

/** Exit code for an interrupted run, as a shell reports SIGINT. */
const EXIT_INTERRUPTED = 130;

let installed = false;
export function undoOnInterrupt(): void {
  if (installed) return;
  installed = true;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping servers and removing temp dirs`);
      void undoAll().finally(() => process.exit(EXIT_INTERRUPTED));
    });
  }
}

export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

export async function tempDir(prefix = "limedb-bench-"): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  const handle = track(() => rm(path, { recursive: true, force: true }));
  return { path, [Symbol.asyncDispose]: handle[Symbol.asyncDispose] };
}
