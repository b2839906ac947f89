// Writes keys through the public API before a load: a fixed pool of workers over one or more nodes, every request bounded.
import { REQUEST_TIMEOUT_MS } from "./server-process.ts";

/** Requests in flight at once; as many as wrk's connections, so the nodes see the load they are measured under. */
export const PRELOAD_CONCURRENCY = 64;

/** A preload of a few thousand keys takes seconds; one still running after this is stuck, not slow. */
export const PRELOAD_BOUND_MS = 60_000;

/**
 * Sets every key to `value` through `urls` (key i goes to urls[i % urls.length]) with `concurrency`
 * workers, each taking the next key when its request is answered, so one slow answer never holds a
 * whole batch. Any answer but 200 fails the preload: a bench over missing keys would measure 404s.
 */
export async function preload(urls: readonly string[], keys: readonly string[], value: string, concurrency = PRELOAD_CONCURRENCY, boundMs = PRELOAD_BOUND_MS): Promise<void> {
  if (urls.length === 0) throw new Error("bench: preload needs a node to write through");
  const deadline = performance.now() + boundMs;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < keys.length; i = next++) {
      if (performance.now() > deadline) throw new Error(`bench: preload of ${keys.length} keys still running after ${boundMs} ms (${i} started)`);
      const key = keys[i]!;
      const url = urls[i % urls.length]!;
      const response = await fetch(`${url}/api/v1/set`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key, value }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`bench: preload of ${key} through ${url} answered ${response.status}: ${text}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
}
