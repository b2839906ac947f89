// /metrics of a real two-node cluster follows Prometheus's conventions: our own rules always (counters end in
// _total, times are histograms in _seconds), and promtool's own lint (Debian's prometheus package) where installed.
import { expect, test } from "bun:test";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, startCluster, TEST_TIMING, waitForAgreement } from "../support/cluster.ts";
import { getKey, setKey } from "../support/replication.ts";

const AGREE_WAIT_MS = 15_000;

test("every metric family of a node that served, replicated and gossiped is named by Prometheus's rules", async () => {
  await using cluster = await startCluster({ size: 2, timing: TEST_TIMING, args: ["-node.replication-factor", "2", "-node.write-quorum", "2", "-node.read-quorum", "2"] });
  await waitForAgreement(cluster.urls, cluster.urls, AGREE_WAIT_MS);
  const [a] = cluster.nodes;
  expect((await setKey(a!.url, "k", "v")).status).toBe(200);
  expect((await getKey(a!.url, "k")).status).toBe(200);
  const text = await (await fetchNode(`${a!.url}/metrics`)).text();

  const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name: name!, type: type! }));
  // The families this test is about are there: requests, store operations and calls between the nodes.
  for (const name of ["limedb_http_request_duration_seconds", "limedb_store_operation_duration_seconds", "limedb_peer_call_duration_seconds", "limedb_peer_calls_total", "limedb_peer_calls_served_total"]) {
    expect(families.map((family) => family.name)).toContain(name);
  }
  const broken = families.filter(({ name, type }) => !name.startsWith("limedb_") || /_ms$|_ms_|millis/.test(name) || (type === "counter") !== name.endsWith("_total") || (type === "histogram" && /duration/.test(name) && !name.endsWith("_seconds")));
  expect(broken).toEqual([]);

  const promtool = Bun.which("promtool");
  if (promtool === null) {
    console.log("promtool is not installed (Debian: apt-get install prometheus); only this project's own naming rules were checked");
    return;
  }
  const check = Bun.spawnSync([promtool, "check", "metrics"], { stdin: new TextEncoder().encode(text) });
  const said = `${check.stdout.toString()}${check.stderr.toString()}`.trim();
  expect(said).toBe("");
  expect(check.exitCode).toBe(0);
}, CLUSTER_TEST_TIMEOUT_MS);
