// Builds the dashboard page with Bun's bundler into memory, once, on first use; its files are the only assets served.
import { basename, join } from "node:path";
import { gzipSync } from "bun";

/** The page's entry point; everything it imports is bundled, nothing is fetched from elsewhere at run time. */
export const DASHBOARD_ENTRY = join(import.meta.dir, "..", "..", "dashboard", "main.tsx");

export interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  /** The same bytes gzipped once at build time: the page is mostly chart and faker code that compresses well. */
  readonly gzip: Uint8Array<ArrayBuffer>;
  readonly type: string;
}

export interface Bundle {
  /** File names of the entry script and its stylesheet, as the page's HTML refers to them. */
  readonly script: string;
  readonly style: string | undefined;
  /** Every file the build produced, by name: the fixed list the asset route serves from. */
  readonly assets: ReadonlyMap<string, Asset>;
}

export async function buildBundle(entry = DASHBOARD_ENTRY): Promise<Bundle> {
  let result: Bun.BuildOutput;
  try {
    result = await Bun.build({
      entrypoints: [entry],
      target: "browser",
      format: "esm",
      minify: true,
      // Faker is most of the code and only the seed view needs it: it comes in a chunk loaded on demand.
      splitting: true,
      // Content hashes in every name: a new build gets new names, so browsers may cache assets for good.
      naming: { entry: "[name]-[hash].[ext]", chunk: "chunk-[hash].[ext]", asset: "[name]-[hash].[ext]" },
      define: { "process.env.NODE_ENV": JSON.stringify("production") },
    });
  } catch (error) {
    throw new Error(`the dashboard failed to build: ${describeBuildError(error)}`, { cause: error });
  }
  if (!result.success) throw new Error(`the dashboard failed to build: ${result.logs.map(String).join("; ")}`);
  const assets = new Map<string, Asset>();
  let script: string | undefined;
  let style: string | undefined;
  for (const output of result.outputs) {
    const name = basename(output.path);
    const body = new Uint8Array(await output.arrayBuffer());
    assets.set(name, { body, gzip: gzipSync(body), type: output.type });
    if (output.kind === "entry-point") script = name;
    if (name.endsWith(".css")) style = name;
  }
  if (script === undefined) throw new Error("the dashboard build produced no entry script");
  return { script, style, assets };
}

function describeBuildError(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(String).join("; ");
  return error instanceof Error ? error.message : String(error);
}

/**
 * The bundle, built on the first call and shared by every later one (concurrent first calls share
 * one build). A failed build is not kept: the next call tries again, so a fixed file recovers.
 */
export function cachedBundle(build: () => Promise<Bundle> = buildBundle): () => Promise<Bundle> {
  let pending: Promise<Bundle> | undefined;
  return () => {
    if (pending === undefined) {
      const attempt = build();
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}
