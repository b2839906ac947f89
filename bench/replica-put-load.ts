// The client side of the replica-put figures: a process of its own that keeps CALLERS replica puts in flight on one
// node's bus, as a coordinator under load does, and prints what it got as JSON. Run as
// `bun bench/replica-put-load.ts URL SECONDS CALLERS`; 127.0.0.1 only, bounded by SECONDS.
import { BusTransport } from "../src/node/bus-transport.ts";
import type { StoredRecord } from "../src/store/record.ts";

/** Keys the puts write over, as the replication part's SET load does. */
const KEYS = 5_000;
/** The bench's nodes run without CLUSTER_SECRET. */
const SECRET = "";
const CALL_TIMEOUT_MS = 5_000;
const VALUE = "v".repeat(64);
/** A made-up coordinator's URL, for the versions; nothing connects to it. */
const SELF = "http://127.0.0.1:9";

const [target, secondsArg, callersArg] = Bun.argv.slice(2);
const seconds = Number(secondsArg);
const callers = Number(callersArg);
if (target === undefined || !Number.isFinite(seconds) || !Number.isInteger(callers)) throw new Error("usage: bun bench/replica-put-load.ts URL SECONDS CALLERS");

const transport = new BusTransport({ self: SELF, secret: SECRET, callTimeoutMs: CALL_TIMEOUT_MS, gossipTimeoutMs: CALL_TIMEOUT_MS, valueBytesMax: 1024 * 1024, now: () => performance.now() });
let counter = 0;
let next = 0;
const record = (): StoredRecord => {
  next = (next + 7919) % KEYS;
  return { key: `bench-${next}`, value: VALUE, version: { wallMs: Date.now(), counter: counter++, node: SELF }, tombstone: false, expiresAtMs: undefined };
};
let puts = 0;
let failures = 0;
const endsAtMs = performance.now() + seconds * 1000;
async function caller(): Promise<void> {
  while (performance.now() < endsAtMs) {
    try {
      await transport.putReplica(target!, [record()]);
      puts++;
    } catch {
      failures++;
    }
  }
}
const startedAtMs = performance.now();
await Promise.all(Array.from({ length: callers }, caller));
console.log(JSON.stringify({ puts, putsPerS: puts / ((performance.now() - startedAtMs) / 1000), failures }));
transport.close();
