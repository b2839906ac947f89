// The cluster a fault run works on: five isolated node processes (own user, own loopback address, own clock),
// each naming all the others as seeds, RF=3 W=2 R=2 on SQLite with the default gossip timing.
import { rmSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { timingArgs, waitForAgreement, type ClusterTiming } from "../support/cluster.ts";
import { tempDir, type TempDir } from "../support/temp-dir.ts";
import { assertRunnableBy, ensureIdentities, FaultNode, freePortOn } from "./isolation.ts";

export const NODES = 5;
export const REPLICATION_FACTOR = 3;
export const WRITE_QUORUM = 2;
export const READ_QUORUM = 2;
/** The node defaults (`bun src/main.ts -help`), passed explicitly so a change of default does not change the suite silently. */
export const DEFAULT_TIMING: ClusterTiming = { intervalMs: 1000, staleAfterMs: 3000, deadAfterMs: 5000, forwardTimeoutMs: 2000 };
/** The node default: anti-entropy compares replicas this often, so a key left apart converges within about this. */
export const ANTI_ENTROPY_INTERVAL_MS = 10_000;
/** Five nodes meeting through seeds at a one-second gossip interval agree within a few rounds. */
export const AGREE_TIMEOUT_MS = 30_000;

/** Data dirs of clusters not yet disposed, so an interrupted run can still remove them. */
const liveDirs = new Set<string>();

/** Removes the data dirs of every cluster not disposed; for an interrupt handler, after the nodes are killed. */
export function removeLeftDirs(): void {
  for (const path of liveDirs) rmSync(path, { recursive: true, force: true });
  liveDirs.clear();
}

export class FaultCluster implements AsyncDisposable {
  private constructor(
    readonly nodes: readonly FaultNode[],
    private readonly dir: TempDir,
  ) {}

  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  /** Starts every node at once; stops them all again when one fails to start. */
  static async start(timing: ClusterTiming = DEFAULT_TIMING): Promise<FaultCluster> {
    const identities = ensureIdentities(NODES);
    assertRunnableBy(identities[0]!);
    const dir = await tempDir("limedb-fault-");
    // The node users must get through to their own data dirs; what else is there is root's and read-only to them.
    await chmod(dir.path, 0o755);
    liveDirs.add(dir.path);
    const ports = identities.map((identity) => freePortOn(identity.address));
    const urls = identities.map((identity, i) => `http://${identity.address}:${ports[i]}`);
    const secret = `fault-suite-${crypto.randomUUID()}`;
    const nodes = identities.map((identity, i) => {
      const args = [
        "-store.backend", "sqlite",
        "-node.peers", urls.filter((_, j) => j !== i).join(","),
        "-cluster.secret", secret,
        "-node.replication-factor", String(REPLICATION_FACTOR),
        "-node.write-quorum", String(WRITE_QUORUM),
        "-node.read-quorum", String(READ_QUORUM),
        "-node.anti-entropy-interval-ms", String(ANTI_ENTROPY_INTERVAL_MS),
        "-log.level", "warn",
        ...timingArgs(timing),
      ];
      return new FaultNode({ identity, port: ports[i]!, dataDir: join(dir.path, `node-${i + 1}`), clockFile: join(dir.path, `clock-${i + 1}`), args });
    });
    const cluster = new FaultCluster(nodes, dir);
    const started = await Promise.allSettled(nodes.map((node) => node.start()));
    const failed = started.find((result) => result.status === "rejected");
    if (failed !== undefined) {
      await cluster[Symbol.asyncDispose]();
      throw failed.reason;
    }
    return cluster;
  }

  node(index: number): FaultNode {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`the fault cluster has no node ${index}`);
    return node;
  }

  byUrl(url: string): FaultNode {
    const node = this.nodes.find((n) => n.url === url);
    if (node === undefined) throw new Error(`the fault cluster has no node ${url}`);
    return node;
  }

  /** Waits until every node lists all five as peers and reports one ring; returns how long that took. */
  async waitForAgreement(timeoutMs = AGREE_TIMEOUT_MS): Promise<number> {
    const { elapsedMs } = await waitForAgreement(this.urls, this.urls, timeoutMs);
    return elapsedMs;
  }

  /** Stops every node (a paused one is continued first) and removes the data dirs. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.allSettled(this.nodes.map((node) => node.stop()));
    await this.dir[Symbol.asyncDispose]();
    liveDirs.delete(this.dir.path);
  }
}
