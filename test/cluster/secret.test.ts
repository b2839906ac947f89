// The internal endpoints of real node processes: CLUSTER_SECRET keeps outsiders out, and bad gossip is refused whole.
import { describe, expect, test } from "bun:test";
import { MEMBERS_MAX } from "../../src/membership/member-table.ts";
import { SECRET_HEADER } from "../../src/node/peer-client.ts";
import { buildRing, ownerOf } from "../../src/ring/ring.ts";
import { allKeys, clientFor, type Client } from "../support/app.ts";
import { CLUSTER_TEST_TIMEOUT_MS,
  fetchNode,
  readRing,
  readState,
  REQUEST_TIMEOUT_MS,
  startCluster,
  waitForAgreement,
  type StateOut, ONE_COPY } from "../support/cluster.ts";

const SECRET = "correct horse battery staple";
/** Bound on a wait that should never come near it; it only keeps a broken cluster from hanging the suite. */
const WAIT_MAX_MS = 15_000;
/** A member no node knows: if a refused message reached the member table, this URL would show up in it. */
const INTRUDER_URL = "http://127.0.0.1:9";

function clientOf(url: string): Client {
  return clientFor((request) => fetch(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }), url);
}

function headersWith(secret: string | undefined): Record<string, string> {
  return { "content-type": "application/json", ...(secret === undefined ? {} : { [SECRET_HEADER]: secret }) };
}

function postGossip(nodeUrl: string, body: string, secret: string | undefined): Promise<Response> {
  return fetchNode(`${nodeUrl}/gossip`, { method: "POST", headers: headersWith(secret), body });
}

/** What gossip could change in a member table: who is in it, at which generation, and whether it is leaving. */
function membership(state: StateOut) {
  return { peers: state.peers, members: state.members.map(({ url, generation, leaving }) => ({ url, generation, leaving })) };
}

async function expectError(response: Response, status: number, code: string): Promise<void> {
  expect({ status: response.status, body: await response.json() }).toEqual({ status, body: { error: expect.any(String), code } });
}

describe("a cluster with CLUSTER_SECRET on every node", () => {
  test("converges and forwards; gossip and direct calls without the right secret get 401 and change nothing", async () => {
    await using cluster = await startCluster({ size: 3, args: ["-cluster.secret", SECRET, ...ONE_COPY] });
    const urls = cluster.urls;
    await waitForAgreement(urls, urls, WAIT_MAX_MS);
    const ring = buildRing(urls, (await readRing(urls[0]!)).virtualNodesPerNode);

    // Forwarding works: a key written through one node reads back through every node from its owner.
    const key = "forwarded/with secret?";
    const owner = ownerOf(ring, key)!;
    const writer = urls.find((url) => url !== owner)!;
    expect(await (await clientOf(writer).set(key, "kept")).text()).toBe("OK");
    for (const url of urls) expect(await (await clientOf(url).get(key)).json()).toEqual({ value: "kept", nodeUrl: owner });

    const target = urls[0]!;
    const before = membership(await readState(target));
    const intruderAck2 = JSON.stringify({ type: "ack2", from: INTRUDER_URL, entries: [{ nodeUrl: INTRUDER_URL, generation: 1, heartbeat: 1, leaving: false }] });
    const syn = JSON.stringify({ type: "syn", from: INTRUDER_URL, digests: [{ nodeUrl: INTRUDER_URL, generation: 1, heartbeat: 1 }] });
    // HTTP trims header values, so the near misses differ inside: a prefix and a changed last character.
    for (const secret of [undefined, "", "wrong secret", SECRET.slice(0, -1), `${SECRET.slice(0, -1)}E`]) {
      await expectError(await postGossip(target, intruderAck2, secret), 401, "unauthorized");
      // A SYN answered without the secret would hand the whole member table to anyone who asks.
      await expectError(await postGossip(target, syn, secret), 401, "unauthorized");
      // The secret is checked before the body is read: an outsider learns nothing from validation errors.
      await expectError(await postGossip(target, '{"type":"ack2","entries":[', secret), 401, "unauthorized");
    }
    expect(membership(await readState(target))).toEqual(before);

    // The direct endpoints: no write, no delete and no read of the owner's store without the secret.
    const ownerClient = clientOf(owner);
    const direct = (path: string, init: RequestInit, secret: string | undefined) => fetchNode(`${owner}${path}`, { ...init, headers: headersWith(secret) });
    for (const secret of [undefined, "wrong secret"]) {
      await expectError(await direct("/api/v1/set/direct", { method: "POST", body: JSON.stringify({ key: "sneaked in", value: "x" }) }, secret), 401, "unauthorized");
      await expectError(await direct("/api/v1/set/direct", { method: "POST", body: JSON.stringify({ key, value: "overwritten" }) }, secret), 401, "unauthorized");
      await expectError(await direct(`/api/v1/direct/del/${encodeURIComponent(key)}`, { method: "DELETE" }, secret), 401, "unauthorized");
      await expectError(await direct(`/api/v1/direct/get/${encodeURIComponent(key)}`, { method: "GET" }, secret), 401, "unauthorized");
      // Checked before the path is validated too: an over-long key is refused for the missing secret, not its length.
      await expectError(await direct(`/api/v1/direct/get/${"k".repeat(2000)}`, { method: "GET" }, secret), 401, "unauthorized");
    }
    expect((await allKeys(ownerClient)).map(({ key, value }) => ({ key, value }))).toEqual([{ key, value: "kept" }]);

    // With the secret the same calls go through, so the refusals above were the secret's doing.
    expect(await (await direct("/api/v1/set/direct", { method: "POST", body: JSON.stringify({ key: "let in", value: "y" }) }, SECRET)).text()).toBe("OK");
    expect((await allKeys(ownerClient)).map(({ key }) => key)).toEqual([key, "let in"]);
    // An intruder named with the secret is taken in too, as an unconfirmed candidate only (see test/security):
    // it is accepted (200), and the gossip of a real member's newer news visibly changes the table.
    expect((await postGossip(target, intruderAck2, SECRET)).status).toBe(200);
    const peer = urls[1]!;
    // Stopped first: running, it would hear of its "newer" self within a gossip round and answer it with a newer generation still.
    await cluster.nodes.find((node) => node.url === peer)!.kill9();
    expect((await postGossip(target, JSON.stringify({ type: "ack2", from: peer, entries: [newerEntry(peer)] }), SECRET)).status).toBe(200);
    expect((await readState(target)).members.find((member) => member.url === peer)?.leaving).toBe(true);
  }, CLUSTER_TEST_TIMEOUT_MS);
});

/** A valid entry of a real member from a later generation: applied, it would visibly change the table. */
function newerEntry(nodeUrl: string) {
  // A generation of now: newer than the running member's (its start time), yet within the clock bound.
  return { nodeUrl, generation: Date.now(), heartbeat: 1, leaving: true };
}

/** Malformed messages, each built around the newer entry so that a partial apply would show. */
function malformedMessages(self: string, peer: string): [string, string][] {
  const entry = newerEntry(peer);
  const hugeEntries = Array.from({ length: MEMBERS_MAX + 1 }, (_, i) => ({ ...entry, nodeUrl: `http://10.${i >> 8}.${i & 255}.1:8484` }));
  return [
    ["garbage that is not JSON", `{"type":"ack2","entries":[${JSON.stringify(entry)}`],
    ["an empty body", ""],
    ["a JSON array", JSON.stringify([{ type: "ack2", from: self, entries: [entry] }])],
    ["a generation given as a string", JSON.stringify({ type: "ack2", from: self, entries: [{ ...entry, generation: String(entry.generation) }] })],
    ["a negative heartbeat", JSON.stringify({ type: "ack2", from: self, entries: [{ ...entry, heartbeat: -1 }] })],
    ["a fractional generation", JSON.stringify({ type: "ack2", from: self, entries: [{ ...entry, generation: entry.generation + 0.5 }] })],
    ["an entry without leaving", JSON.stringify({ type: "ack2", from: self, entries: [{ nodeUrl: peer, generation: entry.generation, heartbeat: 1 }] })],
    ["digests that are not an array", JSON.stringify({ type: "syn", from: self, digests: { [peer]: entry } })],
    ["an unknown type", JSON.stringify({ type: "merge", from: self, entries: [entry] })],
    ["an ACK, which only travels as an answer", JSON.stringify({ type: "ack", from: self, entries: [entry], requests: [] })],
    ["a message without a type", JSON.stringify({ from: self, entries: [entry] })],
    [`an array of ${MEMBERS_MAX + 1} entries`, JSON.stringify({ type: "ack2", from: self, entries: [entry, ...hugeEntries] })],
    ["a nodeUrl that is not a URL", JSON.stringify({ type: "ack2", from: self, entries: [entry, { ...entry, nodeUrl: "not a url" }] })],
    ["a nodeUrl with a path", JSON.stringify({ type: "ack2", from: self, entries: [entry, { ...entry, nodeUrl: "http://127.0.0.1:1/x" }] })],
    ["a sender that is not a URL", JSON.stringify({ type: "ack2", from: "javascript:alert(1)", entries: [entry] })],
  ];
}

describe.each([
  { label: "without a secret", secret: undefined },
  { label: "with a secret, sent with it", secret: SECRET },
])("malformed gossip to a node $label", ({ secret }) => {
  test("gets 400 JSON and leaves the member table as it was", async () => {
    await using cluster = await startCluster({ size: 2, args: secret === undefined ? [] : ["-cluster.secret", secret] });
    const urls = cluster.urls;
    await waitForAgreement(urls, urls, WAIT_MAX_MS);
    const [target, peer] = [cluster.node(0).url, cluster.node(1).url];
    const before = membership(await readState(target));

    const accepted: string[] = [];
    for (const [what, body] of malformedMessages(target, peer)) {
      const response = await postGossip(target, body, secret);
      const answer = { what, status: response.status, body: await response.json() };
      if (answer.status !== 400 || answer.body.code !== "bad_request" || typeof answer.body.error !== "string") accepted.push(JSON.stringify(answer));
    }
    expect(accepted).toEqual([]);
    expect(membership(await readState(target))).toEqual(before);

    // The node still gossips: a well-formed message of the same kind is taken, and would have changed the table.
    const valid = await postGossip(target, JSON.stringify({ type: "ack2", from: target, entries: [newerEntry(peer)] }), secret);
    expect(valid.status).toBe(200);
    expect((await readState(target)).members.find((member) => member.url === peer)).toMatchObject({ leaving: true });
  }, CLUSTER_TEST_TIMEOUT_MS);
});
