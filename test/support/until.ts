// Waits for what background promises (hints, read repair, retries) make true, for a bounded number of event-loop turns.

/** Turns of the event loop before giving up: work done in-process with no real I/O settles in a handful. */
export const TURNS_MAX = 1000;

export async function until(what: string, condition: () => boolean | Promise<boolean>, turnsMax = TURNS_MAX): Promise<void> {
  for (let turn = 0; turn < turnsMax; turn++) {
    if (await condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`${what}: still not so after ${turnsMax} event-loop turns`);
}
