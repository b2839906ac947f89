// The cluster part: forwarded against direct requests on 2 nodes, the bus's frames over a WebSocket and over TCP,
// then join and death times of gossip on 4.
import type { PartResult } from "./figures.ts";
import { benchForwarding } from "./cluster-forward.ts";
import { benchBusTransport } from "./bus-transport.ts";
import { benchGossip } from "./cluster-gossip.ts";
import { wrkInstalled } from "./wrk.ts";

export async function benchCluster(): Promise<PartResult> {
  const started = performance.now();
  const notes: string[] = [];
  const forwarding = wrkInstalled() ? await benchForwarding() : undefined;
  if (forwarding === undefined) {
    const note = "Forwarding figures skipped: wrk is not installed. Install it with `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`, then run `bun run bench cluster`.";
    console.warn(`bench: ${note}`);
    notes.push(note);
  }
  const bus = await benchBusTransport();
  const gossip = await benchGossip();
  return {
    part: "cluster",
    figures: [...(forwarding?.figures ?? []), ...bus.figures, ...gossip.figures],
    notes: [...notes, ...(forwarding?.notes ?? []), ...bus.notes, ...gossip.notes],
    commands: [...(forwarding?.commands ?? []), ...bus.commands, ...gossip.commands],
    elapsedMs: performance.now() - started,
  };
}
