// Reports that could come in floods (export failures, refused clocks): the first at once, then at most one per interval.

/** Reports the first item at once, then at most one per `intervalMs`, with how many were kept quiet in between. */
export function throttled<T>(report: (item: T, suppressed: number) => void, intervalMs: number, clock: () => number): (item: T) => void {
  let lastMs = -Infinity;
  let suppressed = 0;
  return (item) => {
    const now = clock();
    if (now - lastMs < intervalMs) {
      suppressed += 1;
      return;
    }
    report(item, suppressed);
    lastMs = now;
    suppressed = 0;
  };
}
