// A hook that runs a task now and then every interval (none while paused), never two at once, and on demand.
import { useEffect, useRef, useState } from "preact/hooks";

/** True while the run that asked is still the current one: answers from an older choice of node are dropped. */
export type IsCurrent = () => boolean;

/**
 * Runs `task` whenever `deps` change and `intervalMs` after each run ends (null: paused). The
 * returned function runs it again at once. The task reports its own failures; this only schedules.
 */
export function usePolling(task: (isCurrent: IsCurrent) => Promise<void>, intervalMs: number | null, deps: readonly unknown[]): () => void {
  const [manual, setManual] = useState(0);
  const latest = useRef(task);
  latest.current = task;
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const isCurrent = () => !cancelled;
    const run = async () => {
      try {
        await latest.current(isCurrent);
      } finally {
        if (!cancelled && intervalMs !== null) timer = setTimeout(() => void run(), intervalMs);
      }
    };
    void run();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [intervalMs, manual, ...deps]);
  return () => setManual((n) => n + 1);
}
