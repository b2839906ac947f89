// Debian's chromium driven by playwright-core for browser tests: a fresh profile every time, closed with `await using`.
import { existsSync } from "node:fs";
import { chromium, type BrowserContext } from "playwright-core";
import { tempDir, type TempDir } from "./temp-dir.ts";

/** Debian's package installs it here; .ci/run installs it when it is missing. CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Quiet and self-contained: no GPU, no sandbox (CI runs as root), nothing fetched by the browser itself. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** A cold chromium starts in one or two seconds; this leaves room for a loaded machine. */
const LAUNCH_TIMEOUT_MS = 20_000;

export interface Browser extends AsyncDisposable {
  readonly context: BrowserContext;
}

/** Launches chromium with a fresh --user-data-dir (playwright passes it for a persistent context). */
export async function openBrowser(viewport: { width: number; height: number }): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no chromium at ${CHROMIUM_PATH}: install it (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
  }
  const profile: TempDir = await tempDir("limedb-chromium-");
  try {
    const context = await chromium.launchPersistentContext(profile.path, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      timeout: LAUNCH_TIMEOUT_MS,
    });
    return {
      context,
      async [Symbol.asyncDispose]() {
        await context.close().catch(() => undefined);
        await profile[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await profile[Symbol.asyncDispose]();
    throw error;
  }
}
