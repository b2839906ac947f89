// `limedb tui`: starts the watch, renders the view on the terminal's alternate screen, and gives the terminal back on quit.
import { render } from "ink";
import { nodeClient } from "../../client/node-client.ts";
import { App } from "./app.tsx";
import { ClusterWatch, PROBE_TIMEOUT_MS } from "./watch.ts";

export async function runTui(seeds: readonly string[], timeoutMs: number): Promise<void> {
  // Probes stay under the refresh interval; the explorer's operations get the client's full bound.
  const watch = new ClusterWatch({ seeds, timeoutMs: Math.min(timeoutMs, PROBE_TIMEOUT_MS) });
  watch.start();
  const clientFor = (url: string) => nodeClient(url, timeoutMs);
  // The alternate screen keeps the shell's scrollback untouched; ink leaves it, shows the cursor and ends raw mode on exit.
  const instance = render(<App seeds={seeds} watch={watch} clientFor={clientFor} />, { alternateScreen: true, interactive: true, exitOnCtrlC: true });
  try {
    await instance.waitUntilExit();
  } finally {
    watch.stop();
  }
}
