// PeerClient against real sockets: fake peers on 127.0.0.1 that are down, slow, broken or well-behaved.
import { describe, expect, test } from "bun:test";
import type { Ack, Ack2, Syn } from "../../src/membership/messages.ts";
import { GOSSIP_BODY_BYTES_MAX } from "../../src/membership/schema.ts";
import { NodeError, type NodeErrorCode } from "../../src/node/errors.ts";
import { GROUPS_ANSWER_BYTES_MAX, SEGMENTS_ANSWER_BYTES_MAX, OUTCOMES_ANSWER_BYTES_MAX, pageAnswerBytesMax, recordAnswerBytesMax } from "../../src/node/peer-answer-limits.ts";
import { PeerClient, SECRET_HEADER } from "../../src/node/peer-client.ts";
import { heard, tellAll, type PeerCall, type PeerCallListener, type PeerObserver } from "../../src/node/peer-transport.ts";
import type { PeerOp } from "../../src/node/peer-wire.ts";
import type { StoredRecord } from "../../src/store/record.ts";
import { WHOLE_RING } from "../../src/ring/range.ts";
import { freePort } from "../support/free-port.ts";
import { waitUntil } from "../support/cluster.ts";

/** Short enough to keep the suite quick, long enough that a loaded machine still answers a healthy peer. */
const TIMEOUT_MS = 300;
/** How far past its timeout a call may end: timers and sockets on a busy machine are not exact. */
const TIMEOUT_SLACK_MS = 2000;
const SECRET = "s3cret-of-the-cluster";
const SELF = "http://127.0.0.1:1";
/** Small, so an answer past what a value could make is quick to send. */
const VALUE_BYTES_MAX = 1024;
/** Bound on the wait for a cancelled answer to reach the peer's side of the socket. */
const CANCEL_WAIT_MS = 5_000;

interface Seen {
  readonly method: string;
  /** The path exactly as it arrived, still URL-encoded. */
  readonly rawPath: string;
  readonly secret: string | null;
  readonly traceparent: string | null;
  readonly body: string;
}

interface FakePeer extends AsyncDisposable {
  readonly url: string;
  readonly seen: Seen[];
}

/** A peer that records each request and answers it with `answer`; a pending answer is dropped when it stops. */
function fakePeer(answer: (request: Request, body: string) => Response | Promise<Response>): FakePeer {
  const seen: Seen[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body = await request.text();
      const rawPath = request.url.slice(request.url.indexOf("/", "http://".length));
      seen.push({ method: request.method, rawPath, secret: request.headers.get(SECRET_HEADER), traceparent: request.headers.get("traceparent"), body });
      return answer(request, body);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    seen,
    async [Symbol.asyncDispose]() {
      await server.stop(true);
    },
  };
}

/** An answer that never comes: the peer took the request and went quiet. */
const never = () => new Promise<Response>(() => undefined);

/** Headers arrive at once, then the body stops after its first bytes. */
function stalledBody(): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"value":'));
    },
    pull: () => new Promise<void>(() => undefined),
  });
  return new Response(body, { headers: { "content-type": "application/json" } });
}

function client(secret = ""): PeerClient {
  return new PeerClient({ secret, callTimeoutMs: TIMEOUT_MS, gossipTimeoutMs: TIMEOUT_MS, valueBytesMax: VALUE_BYTES_MAX });
}

type Call = (peer: PeerClient, target: string) => Promise<unknown>;

const RECORD: StoredRecord = { key: "k", value: "v", version: { wallMs: 1, counter: 0, node: SELF }, tombstone: false, expiresAtMs: undefined };

const DIRECT_CALLS: [string, Call][] = [
  ["getReplica", (peer, target) => peer.getReplica(target, "k")],
  ["versionOf", (peer, target) => peer.versionOf(target, "k")],
  ["putReplica", (peer, target) => peer.putReplica(target, [RECORD])],
  ["putReplicaThen", (peer, target) => peer.putReplicaThen(target, RECORD, (outcome) => outcome)],
  ["getReplicaThen", (peer, target) => peer.getReplicaThen(target, "k", (record) => record)],
  // The failure reaches the failed step, which throws it on: it must be the same failure.
  [
    "getReplicaThen with a failed step",
    (peer, target) =>
      peer.getReplicaThen(
        target,
        "k",
        (record) => record,
        (error) => {
          throw error;
        },
      ),
  ],
];

const SYN: Syn = { type: "syn", from: SELF, digests: [{ nodeUrl: SELF, generation: 1, heartbeat: 2 }] };
const ACK2: Ack2 = { type: "ack2", from: SELF, entries: [{ nodeUrl: SELF, generation: 1, heartbeat: 2, leaving: false }] };

/** The code and message of the NodeError a call fails with, and how long it took to fail, timed from before it starts. */
async function failure(run: () => Promise<unknown>): Promise<{ code: NodeErrorCode; message: string; elapsedMs: number }> {
  const startedMs = performance.now();
  try {
    await run();
  } catch (error) {
    if (!(error instanceof NodeError)) throw error;
    return { code: error.code, message: error.message, elapsedMs: performance.now() - startedMs };
  }
  throw new Error("the call succeeded; a failure was expected");
}

describe("replica calls to a peer that cannot answer", () => {
  test.each(DIRECT_CALLS)("%s to a closed port fails as unavailable, in this node's words, not the system's", async (_name, call) => {
    const target = `http://127.0.0.1:${freePort()}`;
    expect(await failure(() => call(client(), target))).toMatchObject({ code: "unavailable", message: `owner ${target} is unreachable` });
  });

  test.each(DIRECT_CALLS)("%s to a peer that never answers fails as timeout within about the timeout", async (_name, call) => {
    await using peer = fakePeer(never);
    const { code, elapsedMs } = await failure(() => call(client(), peer.url));
    expect(code).toBe("timeout");
    expect(elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
    expect(elapsedMs).toBeLessThan(TIMEOUT_MS + TIMEOUT_SLACK_MS);
  });

  test.each(DIRECT_CALLS)("%s to a peer whose body stalls after the headers fails as timeout within about the timeout", async (_name, call) => {
    await using peer = fakePeer(stalledBody);
    const { code, elapsedMs } = await failure(() => call(client(), peer.url));
    expect(code).toBe("timeout");
    expect(elapsedMs).toBeLessThan(TIMEOUT_MS + TIMEOUT_SLACK_MS);
  });
});

describe("replica calls to a peer that answers garbage", () => {
  const html = () => new Response("<html><body>Welcome to nginx!</body></html>", { headers: { "content-type": "text/html" } });
  const answers: [string, () => Response][] = [
    ["an HTML page", html],
    ["an HTML error page", () => new Response("<html>Bad Gateway</html>", { status: 502, headers: { "content-type": "text/html" } })],
    ["JSON of the wrong shape", () => Response.json({ val: 1, node: 2 })],
    ["a record of the wrong shape", () => Response.json({ record: { key: "k" }, outcomes: [{ applied: "yes" }] })],
    ["the wrong text", () => new Response("YES")],
    ["an empty body", () => new Response("")],
    ["JSON null", () => Response.json(null)],
    ["a 500 of JSON null", () => Response.json(null, { status: 500 })],
    ["a 404 of JSON null", () => Response.json(null, { status: 404 })],
    ["a 404", () => Response.json({ error: "no route", code: "route_not_found" }, { status: 404 })],
    ["a 404 HTML page", () => new Response("<h1>Not Found</h1>", { status: 404 })],
  ];
  const cases = DIRECT_CALLS.flatMap(([name, call]) => answers.map(([what, answer]) => [name, what, call, answer] as const));

  test.each(cases)("%s answered with %s fails as unavailable", async (_name, _what, call, answer) => {
    await using peer = fakePeer(answer);
    expect((await failure(() => call(client(), peer.url))).code).toBe("unavailable");
  });

  test.each([
    ["400 bad_request", 400, "bad_request", "bad_request"],
    ["413 too_large", 413, "too_large", "too_large"],
    ["401 unauthorized (a secret mismatch)", 401, "unauthorized", "unavailable"],
    ["503 store_unavailable", 503, "store_unavailable", "unavailable"],
  ] as const)("a peer's %s error reaches the caller as %s", async (_name, status, code, expected) => {
    await using peer = fakePeer(() => Response.json({ error: "the peer says no", code }, { status }));
    for (const [, call] of DIRECT_CALLS) {
      const { code: got, message } = await failure(() => call(client(), peer.url));
      expect(got).toBe(expected);
      // The client reads this message: a peer's own text could be whatever answers on some port.
      expect(message).not.toContain("the peer says no");
      expect(message).toStartWith(`owner ${peer.url} `);
    }
  });
});

describe("replica calls to a healthy peer", () => {
  const WIRE = { key: "k", value: "lime", version: { wallMs: 5, counter: 1, node: SELF }, tombstone: false, expiresAtMs: null };

  test("each call reaches its route and reads the answer", async () => {
    await using peer = fakePeer((request) => {
      const path = new URL(request.url).pathname;
      if (path.startsWith("/api/v1/replica/get/")) return Response.json({ record: path.endsWith("/gone") ? null : WIRE });
      return Response.json({ outcomes: [{ applied: true, replacedLive: false }] });
    });
    const peerClient = client();
    expect(await peerClient.getReplica(peer.url, "k")).toEqual({ ...WIRE, expiresAtMs: undefined });
    expect(await peerClient.getReplica(peer.url, "gone")).toBeUndefined();
    expect(await peerClient.versionOf(peer.url, "k")).toEqual(WIRE.version);
    expect(await peerClient.putReplica(peer.url, [RECORD])).toEqual([{ applied: true, replacedLive: false }]);
    expect(peer.seen.map((s) => `${s.method} ${s.rawPath}`)).toEqual(["GET /api/v1/replica/get/k", "GET /api/v1/replica/get/gone", "GET /api/v1/replica/get/k", "POST /api/v1/replica/put"]);
    expect(JSON.parse(peer.seen[3]!.body)).toEqual({ records: [{ ...RECORD, expiresAtMs: null }] });
  });

  const KEYS = ["a/b/c", "what?now", "#fragment", "100%", "%2F", "two words", "plus+sign", "🍋 lime", "ключ", "...", "a\\b", "&x=1;y", "tab\there"];

  test.each(KEYS)("the key %p reaches the peer exactly", async (key) => {
    await using peer = fakePeer(() => Response.json({ record: null }));
    await client().getReplica(peer.url, key);
    const prefix = "/api/v1/replica/get/";
    const [get] = peer.seen;
    // One path segment: a "/" in the key must not split it, nor a "?" or "#" end it.
    expect(get!.rawPath).toStartWith(prefix);
    const segment = get!.rawPath.slice(prefix.length);
    expect(segment).not.toMatch(/[/?#\s]/);
    expect(decodeURIComponent(segment)).toBe(key);
  });
});

describe("the cluster secret", () => {
  const ALL_CALLS: [string, Call][] = [...DIRECT_CALLS, ["syn", (peer, target) => peer.syn(target, SYN)], ["ack2", (peer, target) => peer.ack2(target, ACK2)]];

  test.each(ALL_CALLS)("%s sends the secret header when a secret is configured, and none otherwise", async (_name, call) => {
    await using peer = fakePeer(() => new Response("nope", { status: 500 }));
    await call(client(SECRET), peer.url).catch(() => undefined);
    await call(client(""), peer.url).catch(() => undefined);
    expect(peer.seen.map((s) => s.secret)).toEqual([SECRET, null]);
  });
});

describe("the peer observer", () => {
  const KEY = "a/key?that#must-not-show";
  const CALLS: [string, (peer: PeerClient, target: string) => Promise<unknown>, PeerOp][] = [
    ["putReplica", (peer, target) => peer.putReplica(target, []), "put"],
    ["getReplica", (peer, target) => peer.getReplica(target, KEY), "get"],
    ["versionOf", (peer, target) => peer.versionOf(target, KEY), "version"],
    ["differingGroups", (peer, target) => peer.differingGroups(target, SELF, [WHOLE_RING], [1]), "digests"],
    ["differingSegments", (peer, target) => peer.differingSegments(target, SELF, [WHOLE_RING], [1], [1]), "segmentDigests"],
    ["segmentRecords", (peer, target) => peer.segmentRecords(target, SELF, [WHOLE_RING], [1], undefined), "segmentRecords"],
    ["syn", (peer, target) => peer.syn(target, SYN), "gossip"],
    ["ack2", (peer, target) => peer.ack2(target, ACK2), "gossip"],
  ];

  test.each(CALLS)("%s shows the observer its operation and target, never the key, and headers it adds reach the peer", async (_name, call, op) => {
    await using peer = fakePeer(() => new Response("nope", { status: 500 }));
    const calls: PeerCall[] = [];
    const observe: PeerObserver = (seen, headers, send) => {
      calls.push(seen);
      headers.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
      return send();
    };
    await call(new PeerClient({ secret: "", callTimeoutMs: TIMEOUT_MS, gossipTimeoutMs: TIMEOUT_MS, valueBytesMax: VALUE_BYTES_MAX, observe }), peer.url).catch(() => undefined);
    expect(calls).toEqual([{ op, target: peer.url }]);
    expect(peer.seen.map((seen) => seen.traceparent)).toEqual(["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]);
  });

  test("tellAll tells each listener of a call as it starts and of its outcome, in order; heard settles as the call did", async () => {
    const told: string[] = [];
    const listener =
      (name: string): PeerCallListener =>
      (call) => {
        told.push(`${name} ${call.op}`);
        return (outcome) => told.push(`${name} ${"value" in outcome ? `answered ${String(outcome.value)}` : `failed ${(outcome.error as Error).message}`}`);
      };
    const both = tellAll(listener("a"), listener("b"));
    const sent = (async () => {
      await Bun.sleep(0);
      told.push("answered");
      return 7;
    })();
    expect(await heard(both, { op: "get", target: SELF }, sent)).toBe(7);
    await expect(heard(both, { op: "put", target: SELF }, Promise.reject(new Error("cut off")))).rejects.toThrow("cut off");
    expect(told).toEqual(["a get", "b get", "answered", "a answered 7", "b answered 7", "a put", "b put", "a failed cut off", "b failed cut off"]);
  });
});

describe("gossip calls", () => {
  const ACK: Ack = {
    type: "ack",
    from: "http://127.0.0.1:2",
    entries: [{ nodeUrl: "http://127.0.0.1:3", generation: 7, heartbeat: 9, leaving: false }],
    requests: [SELF],
  };

  test("syn posts the SYN to /gossip and returns the parsed ACK", async () => {
    await using peer = fakePeer(() => Response.json(ACK));
    expect(await client().syn(peer.url, SYN)).toEqual(ACK);
    expect(peer.seen).toHaveLength(1);
    expect(peer.seen[0]!.method).toBe("POST");
    expect(peer.seen[0]!.rawPath).toBe("/gossip");
    expect(JSON.parse(peer.seen[0]!.body)).toEqual(SYN);
  });

  test("ack2 posts the ACK2 to /gossip and ignores whatever comes back", async () => {
    await using peer = fakePeer(() => new Response("<html>", { status: 500 }));
    expect(await client().ack2(peer.url, ACK2)).toBeUndefined();
    expect(JSON.parse(peer.seen[0]!.body)).toEqual(ACK2);
  });

  test("syn to a closed port gives undefined", async () => {
    expect(await client().syn(`http://127.0.0.1:${freePort()}`, SYN)).toBeUndefined();
  });

  test.each([
    ["never answers", never],
    ["stalls its body after the headers", stalledBody],
  ])("syn to a peer that %s gives undefined within about the timeout", async (_name, answer) => {
    await using peer = fakePeer(answer);
    const startedMs = performance.now();
    expect(await client().syn(peer.url, SYN)).toBeUndefined();
    expect(performance.now() - startedMs).toBeLessThan(TIMEOUT_MS + TIMEOUT_SLACK_MS);
  });

  test.each([
    ["an HTML page", () => new Response("<html></html>")],
    ["an error status with a valid ACK", () => Response.json(ACK, { status: 500 })],
    ["an ACK2 instead of an ACK", () => Response.json(ACK2)],
    ["an ACK missing its requests", () => Response.json({ type: "ack", from: ACK.from, entries: [] })],
    ["an ACK whose entry is no URL", () => Response.json({ ...ACK, entries: [{ nodeUrl: "not a url", generation: 1, heartbeat: 1, leaving: false }] })],
    ["an ACK with a negative heartbeat", () => Response.json({ ...ACK, entries: [{ ...ACK.entries[0]!, heartbeat: -1 }] })],
  ])("syn answered with %s gives undefined", async (_name, answer) => {
    await using peer = fakePeer(answer);
    expect(await client().syn(peer.url, SYN)).toBeUndefined();
  });
});

describe("answers past their cap", () => {
  /** A valid answer of each route padded with spaces (still valid JSON) to `bytes`, and a call that reads it. */
  const ROUTES: [string, string, number, Call][] = [
    ["putReplica", JSON.stringify({ outcomes: [] }), OUTCOMES_ANSWER_BYTES_MAX, (peer, target) => peer.putReplica(target, [])],
    ["getReplica", JSON.stringify({ record: null }), recordAnswerBytesMax(VALUE_BYTES_MAX), (peer, target) => peer.getReplica(target, "k")],
    ["differingGroups", JSON.stringify({ groups: [1] }), GROUPS_ANSWER_BYTES_MAX, (peer, target) => peer.differingGroups(target, SELF, [WHOLE_RING], [1])],
    ["differingSegments", JSON.stringify({ segments: [1] }), SEGMENTS_ANSWER_BYTES_MAX, (peer, target) => peer.differingSegments(target, SELF, [WHOLE_RING], [1], [1])],
    ["segmentRecords", JSON.stringify({ records: [], next: null }), pageAnswerBytesMax(VALUE_BYTES_MAX), (peer, target) => peer.segmentRecords(target, SELF, [WHOLE_RING], [1], undefined)],
  ];
  const padded = (answer: string, bytes: number) => answer + " ".repeat(bytes - answer.length);

  /** The text as a body of declared length, or streamed in chunks with no length, as a proxy or a fake may send it. */
  const bodyOf = (text: string, streamed: boolean): BodyInit => (streamed ? new Blob([text]).stream() : text);
  const CASES = ROUTES.flatMap(([name, answer, bytesMax, call]) =>
    [false, true].map((streamed) => [`${name} ${streamed ? "in chunks" : "with its length declared"}`, answer, bytesMax, call, streamed] as const),
  );

  test.each(CASES)("%s: an answer of exactly the cap is read, one byte more is garbage", async (_name, answer, bytesMax, call, streamed) => {
    let bytes = bytesMax;
    await using peer = fakePeer(() => new Response(bodyOf(padded(answer, bytes), streamed), { headers: { "content-type": "application/json" } }));
    await call(client(), peer.url);
    bytes = bytesMax + 1;
    expect(await failure(() => call(client(), peer.url))).toMatchObject({ code: "unavailable", message: `owner ${peer.url} answered something that is not a LimeDB reply` });
  });

  /** A body that never ends; `cancelled` turns true when the reader gives up on it. */
  function endless(): { response: () => Response; cancelled: () => boolean } {
    let cancelled = false;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    return {
      response: () => new Response(new ReadableStream<Uint8Array>({ pull: (controller) => controller.enqueue(chunk), cancel: () => void (cancelled = true) })),
      cancelled: () => cancelled,
    };
  }

  test.each(ROUTES)("%s stops reading an endless answer at its cap, well before the timeout, and closes it", async (_name, _answer, _bytesMax, call) => {
    const body = endless();
    await using peer = fakePeer(body.response);
    const slowClient = new PeerClient({ secret: "", callTimeoutMs: 30_000, gossipTimeoutMs: 30_000, valueBytesMax: VALUE_BYTES_MAX });
    expect((await failure(() => call(slowClient, peer.url))).code).toBe("unavailable");
    await waitUntil("the peer sees its answer cancelled", async () => body.cancelled(), (cancelled) => cancelled, CANCEL_WAIT_MS);
  });

  test.each([
    ["an error answer", 503],
    ["a not-found answer", 404],
  ])("%s of endless bytes is read only up to the error cap", async (_name, status) => {
    const body = endless();
    await using peer = fakePeer(() => new Response(body.response().body, { status }));
    const slowClient = new PeerClient({ secret: "", callTimeoutMs: 30_000, gossipTimeoutMs: 30_000, valueBytesMax: VALUE_BYTES_MAX });
    expect((await failure(() => slowClient.getReplica(peer.url, "k"))).code).toBe("unavailable");
  });

  test("syn reads an ACK of exactly the gossip body limit and ignores one byte more", async () => {
    const ack: Ack = { type: "ack", from: "http://127.0.0.1:2", entries: [], requests: [] };
    let bytes = GOSSIP_BODY_BYTES_MAX;
    await using peer = fakePeer(() => new Response(padded(JSON.stringify(ack), bytes), { headers: { "content-type": "application/json" } }));
    expect(await client().syn(peer.url, SYN)).toEqual(ack);
    bytes = GOSSIP_BODY_BYTES_MAX + 1;
    expect(await client().syn(peer.url, SYN)).toBeUndefined();
  });
});
