// The replication part: three copies against one on 3 nodes (wrk), replica puts against one node's bus by backend, then the time to re-replicate 10k keys after a kill -9 on 4.
import type { PartResult } from "./figures.ts";
import { benchReplicationLoad } from "./replication-load.ts";
import { benchRecovery } from "./replication-recovery.ts";
import { benchReplicaPuts } from "./replica-puts.ts";
import { wrkInstalled } from "./wrk.ts";

export async function benchReplication(): Promise<PartResult> {
  const started = performance.now();
  const notes: string[] = [];
  const load = wrkInstalled() ? await benchReplicationLoad() : undefined;
  if (load === undefined) {
    const note = "Replication throughput figures skipped: wrk is not installed. Install it with `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`, then run `bun run bench replication`.";
    console.warn(`bench: ${note}`);
    notes.push(note);
  }
  const puts = await benchReplicaPuts();
  const recovery = await benchRecovery();
  return {
    part: "replication",
    figures: [...(load?.figures ?? []), ...puts.figures, ...recovery.figures],
    notes: [...notes, ...(load?.notes ?? []), ...puts.notes, ...recovery.notes],
    commands: [...(load?.commands ?? []), ...puts.commands, ...recovery.commands],
    elapsedMs: performance.now() - started,
  };
}
