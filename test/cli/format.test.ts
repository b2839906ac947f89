// The client's pure formatting: tables, bars, percentages, ring shares and the reports built from API answers.
import { describe, expect, test } from "bun:test";
import type { GossipBody, HealthBody, RingBody, StateBody } from "../../src/client/node-client.ts";
import { bar, columnWidths, duration, fields, hostPort, percent, portOf, printable, ringShares, signedPercent, table, truncate } from "../../src/cli/format.ts";
import { gossipReport, keysReport, ringReport, statusReport } from "../../src/cli/reports.ts";

describe("text helpers", () => {
  test.each([
    ["plain", "plain"],
    ["a\nb", "a\\nb"],
    ["tab\there", "tab\\there"],
    ["\u001b[31mred", "\\u001b[31mred"],
    ["del\u007f", "del\\u007f"],
    ["emoji 🍋 stays", "emoji 🍋 stays"],
  ])("printable(%p) is %p", (text, expected) => {
    expect(printable(text)).toBe(expected);
  });

  test.each([
    ["short", 10, "short"],
    ["exactly10!", 10, "exactly10!"],
    ["longer than ten", 10, "longer th…"],
    ["🍋🍋🍋🍋", 5, "🍋🍋…"],
    ["anything", 0, ""],
  ])("truncate(%p, %p) is %p", (text, width, expected) => {
    expect(truncate(text, width)).toBe(expected);
    expect(Bun.stringWidth(truncate(text, width))).toBeLessThanOrEqual(width);
  });

  test.each([
    [0, "0.0%"],
    [0.3341, "33.4%"],
    [1, "100.0%"],
  ])("percent(%p) is %p", (fraction, expected) => {
    expect(percent(fraction)).toBe(expected);
  });

  test.each([
    [0.017, "+1.7%"],
    [-0.02, "-2.0%"],
    [0, "+0.0%"],
    [-0.00001, "+0.0%"],
  ])("signedPercent(%p) is %p", (fraction, expected) => {
    expect(signedPercent(fraction)).toBe(expected);
  });

  test.each([
    [0, 4, "····"],
    [1, 4, "████"],
    [0.5, 4, "██··"],
    [0.53125, 4, "██▏·"],
    [2, 3, "███"],
    [-1, 3, "···"],
    [Number.NaN, 3, "···"],
  ])("bar(%p, %p) is %p and always exactly that wide", (fraction, width, expected) => {
    expect(bar(fraction, width)).toBe(expected);
    expect(Bun.stringWidth(bar(fraction, width))).toBe(width);
  });

  test.each([
    [3.4, "3 ms"],
    [999, "999 ms"],
    [1_234, "1.2 s"],
  ])("duration(%p) is %p", (ms, expected) => {
    expect(duration(ms)).toBe(expected);
  });

  test.each([
    ["http://127.0.0.1:7001", "127.0.0.1:7001", "7001"],
    ["http://127.0.0.2", "127.0.0.2", "80"],
    ["https://127.0.0.3/", "127.0.0.3", "443"],
    ["not a url", "not a url", ""],
  ])("%p has host:port %p and port %p", (url, host, port) => {
    expect(hostPort(url)).toBe(host);
    expect(portOf(url)).toBe(port);
  });
});

describe("tables", () => {
  test("columns are as wide as their widest cell, numbers aligned right, no trailing spaces", () => {
    const lines = table(
      [{ header: "NODE" }, { header: "KEYS", align: "right" }, { header: "NOTE" }],
      [
        ["http://127.0.0.1:1", "5", ""],
        ["http://127.0.0.22:22", "1234", "this node"],
      ],
    );
    expect(lines).toEqual(["NODE                  KEYS  NOTE", "http://127.0.0.1:1       5", "http://127.0.0.22:22  1234  this node"]);
  });

  test("wide characters count two cells", () => {
    expect(columnWidths([{ header: "K" }], [["🍋🍋"]])).toEqual([4]);
  });

  test("fields align their values after the longest label", () => {
    expect(fields([["node", "a"], ["replication", "b"]])).toEqual(["node         a", "replication  b"]);
  });
});

describe("ring shares", () => {
  test("each node's deviation is its share against the mean, and bars are relative to the largest share", () => {
    const rows = ringShares({ "http://127.0.0.2": 0.25, "http://127.0.0.1": 0.5, "http://127.0.0.3": 0.25 }, { "http://127.0.0.1": 256, "http://127.0.0.2": 256, "http://127.0.0.3": 256 });
    expect(rows.map((r) => r.nodeUrl)).toEqual(["http://127.0.0.1", "http://127.0.0.2", "http://127.0.0.3"]);
    expect(rows.map((r) => r.deviation)).toEqual([0.5, -0.25, -0.25]);
    expect(rows.map((r) => r.relative)).toEqual([1, 0.5, 0.5]);
    expect(rows.map((r) => r.vnodes)).toEqual([256, 256, 256]);
  });

  test("an even ring has no deviation and an empty ring no rows", () => {
    expect(ringShares({ a: 0.5, b: 0.5 }).map((r) => r.deviation)).toEqual([0, 0]);
    expect(ringShares({})).toEqual([]);
  });
});

const NODES = ["http://127.0.0.1:7001", "http://127.0.0.1:7002", "http://127.0.0.1:7003"];

function ring(shares: readonly number[]): RingBody {
  return {
    currentNode: NODES[0] ?? "",
    totalNodes: NODES.length,
    allNodes: NODES,
    virtualNodes: 768,
    virtualNodesPerNode: 256,
    virtualNodeDistribution: Object.fromEntries(NODES.map((url) => [url, 256])),
    shares: Object.fromEntries(NODES.map((url, i) => [url, shares[i] ?? 0])),
    ranges: {},
    rangesDegrees: {},
  };
}

describe("reports", () => {
  test("the ring report lists every node with its share, its deviation and a bar", () => {
    const lines = ringReport(ring([0.34, 0.33, 0.33]), 10);
    expect(lines[0]).toBe("ring of http://127.0.0.1:7001: 3 nodes, 256 virtual nodes each (768 points)");
    expect(lines[2]).toBe("NODE                   VNODES  SHARE  DEVIATION  DISTRIBUTION");
    expect(lines[3]).toBe("http://127.0.0.1:7001     256  34.0%      +2.0%  ██████████");
    expect(lines[4]).toBe("http://127.0.0.1:7002     256  33.0%      -1.0%  █████████▊");
  });

  test("the status report shows the node, replication and every member", () => {
    const state: StateBody = {
      nodeUrl: NODES[0] ?? "",
      peers: NODES,
      status: "active",
      totalNodes: 3,
      members: NODES.map((url, i) => ({ url, state: i === 2 ? "dead" : "active", generation: 7, heartbeat: 10 + i, leaving: false })),
      replicationFactor: 3,
      replication: {
        factor: 3,
        writeQuorum: 2,
        readQuorum: 2,
        hintBacklog: 4,
        hintsByTarget: {},
        hintsDelivered: 1,
        readRepairs: 0,
        antiEntropyRepairs: 2,
        rebalance: { running: false, pending: false, passes: 1, streamed: 5, dropped: 0, lastPass: null },
      },
    };
    const health: HealthBody = {
      nodeUrl: NODES[0] ?? "",
      service: "limedb-node",
      status: "healthy",
      storage: { type: "sqlite", keys: 1 },
      replication: { factor: 3, hintBacklog: 4, rebalancing: false },
      timestamp: "2025-01-01T00:00:00.000Z",
      version: "0.1.0",
    };
    const lines = statusReport(state, health, 3.2);
    expect(lines.slice(0, 7)).toEqual([
      "node         http://127.0.0.1:7001 (healthy, v0.1.0, answered in 3 ms)",
      "storage      sqlite, 1 key",
      "ring         3 nodes; members 2 active, 1 dead",
      "replication  factor 3 (3 copies now), write quorum 2, read quorum 2",
      "hints        4 waiting, 1 delivered",
      "repairs      0 on read, 2 by anti-entropy",
      "rebalance    idle: 1 pass, 5 streamed, 0 dropped",
    ]);
    expect(lines[8]).toBe("MEMBER                 STATE   GENERATION  HEARTBEAT  NOTE");
    expect(lines[9]).toBe("http://127.0.0.1:7001  active           7         10  this node");
    expect(lines[11]).toBe("http://127.0.0.1:7003  dead             7         12");
  });

  test("the gossip report summarises the peers, and a lone node says it is standalone", () => {
    const gossip: GossipBody = {
      node_url: NODES[0] ?? "",
      node_heartbeat: 42,
      cluster_health: "degraded",
      total_peers: 2,
      active_peers: 1,
      stale_peers: 1,
      dead_peers: 0,
      average_lag: 700,
      max_lag: 1_300,
      convergence_rate: 0.5,
      peer_details: [
        { url: NODES[1] ?? "", heartbeat: 40, generation: 1, lag: 100, status: "active" },
        { url: NODES[2] ?? "", heartbeat: 3, generation: 1, lag: 1_300, status: "stale" },
      ],
    };
    expect(gossipReport(gossip)).toEqual([
      "gossip of  http://127.0.0.1:7001: degraded, heartbeat 42",
      "peers      2 (1 active, 1 stale, 0 dead), convergence 50%",
      "lag        average 700 ms, max 1.3 s",
      "",
      "PEER                   STATUS  HEARTBEAT  GENERATION     LAG",
      "http://127.0.0.1:7002  active         40           1  100 ms",
      "http://127.0.0.1:7003  stale           3           1   1.3 s",
    ]);
    expect(gossipReport({ node_url: "http://127.0.0.1", node_heartbeat: 3, status: "standalone", cluster_health: "N/A", total_peers: 0 })).toEqual([
      "gossip of http://127.0.0.1: standalone (knows no other node), heartbeat 3",
    ]);
  });

  test("the keys report escapes control characters and cuts long values", () => {
    const lines = keysReport("http://127.0.0.1", [{ key: "a\nb", value: "v".repeat(100), size: 100 }], 41, { page: 2, totalPages: 3 });
    expect(lines[0]).toBe("KEY   SIZE  VALUE");
    expect(lines[1]).toBe(`a\\nb   100  ${"v".repeat(47)}…`);
    expect(lines.at(-1)).toBe("page 2 of 3, 41 keys on http://127.0.0.1");
    expect(keysReport("http://127.0.0.1", [], 0, { page: 1, totalPages: 0 })).toEqual(["no keys on http://127.0.0.1"]);
  });
});
