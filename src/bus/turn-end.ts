// Work left for the end of the event-loop turn, all of it in one setImmediate: the calls a turn's requests merged
// leave in their frames in the same pass, not one turn later (each setImmediate queued from an immediate waits for
// the next turn, with its poll of every socket).

/** Runs a task once the turn's I/O has been handled. */
export type Schedule = (task: () => void) => void;

/**
 * Each task once, at the end of the turn, in order; tasks a task schedules join the same pass. A task that throws
 * does not keep the others from running; the first error is thrown once the pass is over (to `fail` when given).
 */
export function turnEnd(fail: (error: unknown) => void = rethrow): Schedule {
  let tasks: (() => void)[] = [];
  let scheduled = false;
  const run = () => {
    let failure: { error: unknown } | undefined;
    // Read the length on every step: what a task schedules is run in this pass too.
    for (let i = 0; i < tasks.length; i++) {
      try {
        tasks[i]!();
      } catch (error) {
        // Every task still runs: each owner counts on its own to run (a flush left out would strand its calls).
        failure ??= { error };
      }
    }
    tasks = [];
    scheduled = false;
    if (failure !== undefined) fail(failure.error);
  };
  return (task) => {
    tasks.push(task);
    if (scheduled) return;
    scheduled = true;
    setImmediate(run);
  };
}

function rethrow(error: unknown): never {
  throw error;
}

/** A schedule of its own per task: setImmediate. */
export const nextImmediate: Schedule = (task) => void setImmediate(task);
