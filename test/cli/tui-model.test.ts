// The full-screen view's values and its watch: discovery of nodes, the rows shown, selection, the explorer's answers.
import { describe, expect, test } from "bun:test";
import type { GossipBody, NodeClient, RingBody, StateBody } from "../../src/client/node-client.ts";
import { ClientError } from "../../src/client/node-client.ts";
import { answeringNode, clusterRows, discovered, mergeKnown, moveSelection, type NodeProbe } from "../../src/cli/tui/model.ts";
import { perform } from "../../src/cli/tui/operation.ts";
import { ClusterWatch } from "../../src/cli/tui/watch.ts";

const A = "http://127.0.0.1:7001";
const B = "http://127.0.0.1:7002";
const C = "http://127.0.0.1:7003";

function state(nodeUrl: string, members: readonly string[], leaving: readonly string[] = []): StateBody {
  return {
    nodeUrl,
    peers: [...members],
    status: "active",
    totalNodes: members.length,
    members: members.map((url) => ({ url, state: "active", generation: 1, heartbeat: 1, leaving: leaving.includes(url) })),
    replicationFactor: Math.min(3, members.length),
    replication: {
      factor: 3,
      writeQuorum: 2,
      readQuorum: 2,
      hintBacklog: 0,
      hintsByTarget: {},
      hintsDelivered: 0,
      readRepairs: 0,
      antiEntropyRepairs: 0,
      rebalance: { running: false, pending: false, passes: 0, streamed: 0, dropped: 0, lastPass: null },
    },
  };
}

function gossip(nodeUrl: string, peers: readonly string[], active = peers.length): GossipBody {
  return {
    node_url: nodeUrl,
    node_heartbeat: 5,
    cluster_health: "healthy",
    total_peers: peers.length,
    active_peers: active,
    peer_details: peers.map((url) => ({ url, heartbeat: 1, generation: 1, lag: 0, status: "active" })),
  };
}

function up(url: string, members: readonly string[], latencyMs = 3): NodeProbe {
  return { url, up: true, latencyMs, state: state(url, members), gossip: gossip(url, members.filter((m) => m !== url)) };
}

const down = (url: string): NodeProbe => ({ url, up: false, error: `cannot reach ${url}: connection refused` });

describe("the view's model", () => {
  test("members and gossip peers of answering nodes are discovered; nodes that do not answer name nobody", () => {
    const probes = [up(A, [A, B]), down(C)];
    expect(discovered(probes).sort()).toEqual([A, B]);
  });

  test("known nodes keep their order, new ones are added sorted, and the count is bounded", () => {
    expect(mergeKnown([B], [C, A, B])).toEqual([B, A, C]);
    expect(mergeKnown([B], [C, A], 2)).toEqual([B, A]);
  });

  test("rows show state, URL, port, peers, gossip active/total and latency; a node that does not answer is down", () => {
    const leaving: NodeProbe = { url: B, up: true, latencyMs: 1_500, state: state(B, [A, B], [B]), gossip: gossip(B, [A], 0) };
    expect(clusterRows([up(A, [A, B, C]), leaving, down(C)]).map((row) => row.cells)).toEqual([
      ["up", A, "7001", "3", "2/2", "3 ms"],
      ["leaving", B, "7002", "2", "0/1", "1.5 s"],
      ["down", C, "7003", "-", "-", "-"],
    ]);
  });

  test("the ring and the explorer use the selected node when it answers, else the first that does", () => {
    const probes = [down(A), up(B, [B, C]), up(C, [B, C])];
    expect(answeringNode(probes, C)).toBe(C);
    expect(answeringNode(probes, A)).toBe(B);
    expect(answeringNode([down(A)], A)).toBeUndefined();
  });

  test.each([
    [undefined, 1, A],
    [A, 1, B],
    [C, 1, C],
    [A, -1, A],
    ["http://127.0.0.9", -1, A],
  ])("from %p, moving %p selects %p", (current, delta, expected) => {
    expect(moveSelection([A, B, C], current, delta)).toBe(expected);
  });
});

const RING: RingBody = {
  currentNode: A,
  totalNodes: 1,
  allNodes: [A],
  virtualNodes: 1,
  virtualNodesPerNode: 1,
  virtualNodeDistribution: { [A]: 1 },
  shares: { [A]: 1 },
  ranges: {},
  rangesDegrees: {},
};

describe("the watch", () => {
  test("a refresh probes the seeds, then at once the nodes they name, and reads the ring of one that answers", async () => {
    const probed: string[] = [];
    const cluster = new Map([
      [A, up(A, [A, B, C])],
      [B, up(B, [A, B, C])],
    ]);
    const watch = new ClusterWatch({
      seeds: [A],
      probe: async (url) => {
        probed.push(url);
        return cluster.get(url) ?? down(url);
      },
      readRing: async () => RING,
      now: () => 1_000,
    });
    await watch.refresh();
    watch.stop();
    expect(probed).toEqual([A, B, C]);
    expect(watch.current.nodes.map((n) => [n.url, n.up])).toEqual([
      [A, true],
      [B, true],
      [C, false],
    ]);
    expect(watch.current.ring).toEqual({ source: A, body: RING });
    expect(watch.current.refreshedAtMs).toBe(1_000);
  });

  test("a refresh asked for while one runs follows it once, and a node that stops answering turns down", async () => {
    let answering = true;
    let rounds = 0;
    const watch = new ClusterWatch({
      seeds: [A],
      intervalMs: 60_000,
      probe: async (url) => {
        rounds++;
        return answering ? up(url, [url]) : down(url);
      },
      readRing: async () => RING,
    });
    const first = watch.refresh();
    answering = false;
    void watch.refresh();
    void watch.refresh();
    await first;
    await watch.refresh();
    watch.stop();
    expect(rounds).toBe(3);
    expect(watch.current.nodes[0]?.up).toBe(false);
  });
});

function fakeClient(store: Map<string, string>, failure?: ClientError): NodeClient {
  const fail = async () => {
    if (failure !== undefined) throw failure;
  };
  return {
    nodeUrl: A,
    get: async (key) => (await fail(), store.has(key) ? { value: store.get(key) ?? "", nodeUrl: A } : undefined),
    set: async (key, value) => void (await fail(), store.set(key, value)),
    del: async (key) => (await fail(), store.delete(key)),
    mget: () => Promise.reject(new Error("unused")),
    mset: () => Promise.reject(new Error("unused")),
    scan: () => Promise.reject(new Error("unused")),
    restore: () => Promise.reject(new Error("unused")),
    keys: () => Promise.reject(new Error("unused")),
    keysAfter: () => Promise.reject(new Error("unused")),
    state: () => Promise.reject(new Error("unused")),
    ring: () => Promise.reject(new Error("unused")),
    gossip: () => Promise.reject(new Error("unused")),
    health: () => Promise.reject(new Error("unused")),
    replicas: () => Promise.reject(new Error("unused")),
    remove: () => Promise.reject(new Error("unused")),
    metrics: () => Promise.reject(new Error("unused")),
    send: () => Promise.reject(new Error("unused")),
  };
}

describe("the explorer's operations", () => {
  const clock = () => 0;

  test("SET, GET and DEL each answer in one line", async () => {
    const client = fakeClient(new Map());
    expect(await perform(client, "SET", "user:1", "Ada", clock)).toEqual({ tone: "ok", text: 'SET "user:1" = "Ada" → OK (0 ms)' });
    expect(await perform(client, "GET", "user:1", "", clock)).toEqual({ tone: "ok", text: `GET "user:1" → "Ada" · via ${A} (0 ms)` });
    expect(await perform(client, "DEL", "user:1", "", clock)).toEqual({ tone: "ok", text: 'DEL "user:1" → deleted (0 ms)' });
    expect(await perform(client, "GET", "user:1", "", clock)).toEqual({ tone: "missing", text: 'GET "user:1" → not found (0 ms)' });
    expect(await perform(client, "DEL", "user:1", "", clock)).toEqual({ tone: "missing", text: 'DEL "user:1" → not found (0 ms)' });
  });

  test("an empty key and a failing node are answers too, never exceptions", async () => {
    expect(await perform(fakeClient(new Map()), "GET", "", "", clock)).toEqual({ tone: "error", text: "GET: type a key first" });
    const failing = fakeClient(new Map(), new ClientError("unreachable", `cannot reach ${A}: connection refused`));
    expect(await perform(failing, "SET", "k", "v", clock)).toEqual({ tone: "error", text: `SET "k" failed: cannot reach ${A}: connection refused` });
  });
});
