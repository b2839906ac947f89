// limedb backup and restore as real processes against real 3-node clusters (RF=3): 100,000 keys round-trip
// into a fresh cluster with their values, versions and expiries; restoring an older backup over the original
// cluster leaves keys written or deleted since as they are; a backup cut short is refused.
import { expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, startCluster, waitForAgreement } from "../support/cluster.ts";
import { runLimedb } from "../support/limedb-cli.ts";
import { inParallel, interruptOnExit, readReplicas, replicationArgs, REPLICATION_TIMING, TEST_CLUSTER_SECRET } from "../support/replication.ts";
import { tempDir } from "../support/temp-dir.ts";

const KEYS = 100_000;
const BATCH = 1_000;
const ANTI_ENTROPY_OFF_MS = 3_600_000;
/** A backup or restore of 100k keys takes seconds; the bound only catches one that hangs. */
const CLI_BOUND_MS = 120_000;

interface Entry {
  key: string;
  value: string;
  version: { wallMs: number; counter: number; node: string };
  expiresAtMs: number | null;
}

async function scanAll(nodeUrl: string): Promise<Map<string, Entry>> {
  const all = new Map<string, Entry>();
  let cursor: string | null = null;
  do {
    const response = await fetchNode(`${nodeUrl}/api/v1/scan?limit=1000${cursor === null ? "" : `&cursor=${cursor}`}`, undefined, 30_000);
    expect(response.status).toBe(200);
    const page = (await response.json()) as { keys: Entry[]; next: string | null };
    for (const entry of page.keys) {
      expect(all.has(entry.key)).toBe(false);
      all.set(entry.key, entry);
    }
    cursor = page.next;
  } while (cursor !== null);
  return all;
}

async function mset(nodeUrl: string, entries: readonly { key: string; value: string; ttlMs?: number }[]): Promise<void> {
  const response = await fetchNode(`${nodeUrl}/api/v1/mset`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ entries }) }, 60_000);
  const answer = (await response.json()) as { failed: number };
  expect(response.status).toBe(200);
  expect(answer.failed).toBe(0);
}

test(
  "100,000 keys round-trip through a backup into a fresh cluster, versions intact; an older backup never overwrites newer writes",
  async () => {
    await using dir = await tempDir("limedb-backup-");
    await using original = await startCluster({ size: 3, timing: REPLICATION_TIMING, args: replicationArgs(ANTI_ENTROPY_OFF_MS) });
    await using _stopOriginal = interruptOnExit(original);
    await using fresh = await startCluster({ size: 3, timing: REPLICATION_TIMING, args: replicationArgs(ANTI_ENTROPY_OFF_MS) });
    await using _stopFresh = interruptOnExit(fresh);
    await Promise.all([waitForAgreement(original.urls, original.urls, 15_000), waitForAgreement(fresh.urls, fresh.urls, 15_000)]);

    const keys = Array.from({ length: KEYS }, (_, i) => `backup-${i}`);
    const batches = Array.from({ length: KEYS / BATCH }, (_, b) => keys.slice(b * BATCH, (b + 1) * BATCH));
    await inParallel(batches, 3, (batch, b) => mset(original.urls[b % 3]!, batch.map((key, i) => ({ key, value: `value of ${key}`, ...(i === 0 ? { ttlMs: 3_600_000 } : {}) }))));
    const before = await scanAll(original.urls[0]!);
    expect(before.size).toBe(KEYS);

    const file = join(dir.path, "cluster.backup");
    const backup = await runLimedb(["backup", "--out", file, "--json", "--node", original.urls[1]!], { timeoutMs: CLI_BOUND_MS });
    expect(backup.stderr).toContain("backed up 100000 keys");
    expect(backup.exitCode).toBe(0);
    expect(JSON.parse(backup.stdout)).toEqual({ file, records: KEYS });
    const lines = (await readFile(file, "utf8")).trimEnd().split("\n");
    expect(lines.length).toBe(KEYS + 2);
    // The versions in the file are the ones the replicas hold.
    const sample = JSON.parse(lines[1]!) as Entry;
    expect((await readReplicas(original.urls[0]!, sample.key)).map((replica) => replica.version)).toEqual([sample.version, sample.version, sample.version]);

    const env = { CLUSTER_SECRET: TEST_CLUSTER_SECRET };
    const restored = await runLimedb(["restore", file, "--json", "--node", fresh.urls[2]!], { timeoutMs: CLI_BOUND_MS, env });
    expect(restored.exitCode).toBe(0);
    expect(JSON.parse(restored.stdout)).toEqual({ file, records: KEYS, restored: KEYS, kept: 0, failed: 0 });
    const after = await scanAll(fresh.urls[0]!);
    expect(after.size).toBe(KEYS);
    const differing = [...before].filter(([key, entry]) => JSON.stringify(after.get(key)) !== JSON.stringify(entry)).slice(0, 5);
    expect(differing).toEqual([]);
    expect([...after.values()].filter((entry) => entry.expiresAtMs !== null).length).toBe(KEYS / BATCH);

    // Newer writes and deletes on the original, then the older backup restored over it: they stay.
    await mset(original.urls[0]!, keys.slice(0, 10).map((key) => ({ key, value: "newer" })));
    for (const key of keys.slice(10, 15)) expect((await fetchNode(`${original.urls[1]!}/api/v1/del/${key}`, { method: "DELETE" })).status).toBe(200);
    const again = await runLimedb(["restore", file, "--json", "--node", original.urls[0]!], { timeoutMs: CLI_BOUND_MS, env });
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ file, records: KEYS, restored: 0, kept: KEYS, failed: 0 });
    const now = await scanAll(original.urls[2]!);
    expect(now.size).toBe(KEYS - 5);
    expect(keys.slice(0, 10).map((key) => now.get(key)?.value)).toEqual(keys.slice(0, 10).map(() => "newer"));
    expect(keys.slice(10, 15).filter((key) => now.has(key))).toEqual([]);

    // A backup cut short is refused, saying so.
    const cut = join(dir.path, "cut.backup");
    await writeFile(cut, `${lines.slice(0, 1_001).join("\n")}\n`);
    const refused = await runLimedb(["restore", cut, "--node", fresh.urls[0]!], { timeoutMs: CLI_BOUND_MS, env });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("cut short");
  },
  CLUSTER_TEST_TIMEOUT_MS * 6,
);

test(
  "restore refuses a file whose first line never ends once it passes the line bound, without reading the rest into memory",
  async () => {
    await using dir = await tempDir("limedb-restore-endless-");
    // A pipe fed NUL bytes without end: node:readline held the whole line before any length check, growing
    // until memory or the string limit ran out; the bounded reader stops 8 MiB in.
    const fifo = join(dir.path, "endless.backup");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const writer = Bun.spawn(["sh", "-c", `tr -d '\\n' < /dev/zero > '${fifo}'`], { stdout: "ignore", stderr: "ignore" });
    try {
      // Nothing is sent anywhere: the file fails before its header is read, so the node URL is never reached.
      const refused = await runLimedb(["restore", fifo, "--node", "http://127.0.0.1:9"], { timeoutMs: 30_000 });
      expect(refused.stderr).toContain(":1: a line longer than");
      expect(refused.exitCode).toBe(2);
    } finally {
      writer.kill();
      await writer.exited;
    }
  },
  60_000,
);
