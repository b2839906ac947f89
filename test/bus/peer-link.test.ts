// When a link gives a connection up as stalled: only when a call with at least the stall bound expired with
// nothing heard since it was sent. A slow answer to a long call, or a short call a busy peer missed, keeps
// the connection; a stalled one is dropped, what it still carried fails soon after rather than at its own
// (long) deadline, and the next call connects again. A reply frame past the link's cap is never read.
import { afterEach, expect, test } from "bun:test";
import { BUS_PATH, busWebSocket, type BusConnection } from "../../src/bus/bus-server.ts";
import { LinkError, PeerLink } from "../../src/bus/peer-link.ts";
import { upgradeBus } from "../../src/http/serve.ts";

const SECRET = "stall test secret";
const STALL_AFTER_MS = 300;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A bus peer whose calls answer their own body after the number of ms it names; counts the connections it accepted. */
function slowPeer(): { url: string; connections: () => number } {
  let connections = 0;
  const server = Bun.serve<BusConnection>({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, srv) => {
      connections++;
      return upgradeBus(request, srv, () => true);
    },
    websocket: busWebSocket({
      secret: SECRET,
      handle: async (call) => {
        await Bun.sleep(Number(call.body));
        return call.body;
      },
      errorBody: () => "{}",
    }),
  });
  cleanup.push(() => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}`, connections: () => connections };
}

function link(target: string): PeerLink {
  const peerLink = new PeerLink({ target, self: "http://127.0.0.1:2", secret: SECRET, connectTimeoutMs: 2_000, stallAfterMs: STALL_AFTER_MS, now: () => performance.now(), path: BUS_PATH, replyFrameBytesMax: 1024 * 1024 });
  const sweeper = setInterval(() => peerLink.sweep(), 10);
  cleanup.push(() => {
    clearInterval(sweeper);
    peerLink.close();
  });
  return peerLink;
}

/** How a call ended, and after how many ms. */
async function outcome(call: Promise<{ ok: boolean; body: string }>): Promise<{ answer?: string; failure?: string; afterMs: number }> {
  const started = performance.now();
  return call.then(
    (reply) => ({ answer: reply.body, afterMs: performance.now() - started }),
    (error: unknown) => ({ failure: error instanceof LinkError ? error.failure.kind : String(error), afterMs: performance.now() - started }),
  );
}

test("a long call the peer answers slowly keeps its connection: nothing expired, nothing is dropped", async () => {
  const peer = slowPeer();
  const peerLink = link(peer.url);
  // A stream page: a deadline of seconds, answered after four stall bounds of silence.
  const page = await outcome(peerLink.call(8, String(4 * STALL_AFTER_MS), 5_000, ""));
  expect(page.failure).toBeUndefined();
  expect(page.answer).toBe(String(4 * STALL_AFTER_MS));
  expect(peer.connections()).toBe(1);
});

test("a short call a busy peer misses does not cut off the long calls beside it", async () => {
  const peer = slowPeer();
  const peerLink = link(peer.url);
  const long = outcome(peerLink.call(3, "1000", 3_000, ""));
  // A gossip exchange with a deadline under the stall bound, missed with nothing heard since it was sent.
  const short = await outcome(peerLink.call(2, "600", 100, ""));
  expect(short.failure).toBe("timeout");
  const answered = await long;
  expect(answered.failure).toBeUndefined();
  expect(answered.answer).toBe("1000");
  expect(peer.connections()).toBe(1);
});

test("a call with the stall bound that expires unheard drops the connection; what it carried fails soon after, and the next call connects again", async () => {
  const peer = slowPeer();
  const peerLink = link(peer.url);
  const carried = outcome(peerLink.call(8, "4000", 20_000, ""));
  const replicaCall = await outcome(peerLink.call(3, "4000", STALL_AFTER_MS, ""));
  expect(replicaCall.failure).toBe("timeout");
  // The stream page on the dropped connection fails by the stall bound after the drop, not at its 20 s deadline.
  const page = await carried;
  expect(page.failure).toBe("timeout");
  expect(page.afterMs).toBeLessThan(2_000);
  expect(page.afterMs).toBeGreaterThanOrEqual(2 * STALL_AFTER_MS - 50);
  // A new connection, once the backoff passed.
  await Bun.sleep(300);
  const next = await outcome(peerLink.call(1, "0", 2_000, ""));
  expect(next.answer).toBe("0");
  expect(peer.connections()).toBe(2);
});

test("a reply frame past the link's cap drops the connection unread: the call fails, and the next one is answered on a new connection", async () => {
  const peer = slowPeer();
  const peerLink = link(peer.url);
  // The peer answers a call's body back; a body of 2 MiB of digits makes a reply frame past the link's 1 MiB cap.
  const huge = await outcome(peerLink.call(4, `0${"0".repeat(2 * 1024 * 1024)}`, 2_000, ""));
  expect(huge.failure).toBe("unreachable");
  await Bun.sleep(300);
  expect((await outcome(peerLink.call(1, "0", 2_000, ""))).answer).toBe("0");
  expect(peer.connections()).toBe(2);
});
