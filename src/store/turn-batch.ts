// Work that arrives in one event-loop turn done by one call, each caller resolving after it: group commit for
// writes, one read transaction for reads.

interface Pending<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

/** Bounds one batch so a flood of writes (or reads) still goes in pieces of reasonable latency. */
export const BATCH_ITEMS_MAX = 1024;

export class TurnBatcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private running = false;
  private scheduled = false;

  /** `commit` must return one result per item, in order, or throw to fail the whole batch. */
  constructor(private readonly commit: (items: readonly T[]) => Promise<R[]> | R[]) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items in this turn's batch, with one promise for their results, in order; it fails as soon as one of them does. */
  submitAll(items: readonly T[]): Promise<R[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<R[]>((resolve, reject) => {
      const results = new Array<R>(items.length);
      let left = items.length;
      items.forEach((item, i) => {
        const done = (result: R) => {
          results[i] = result;
          if (--left === 0) resolve(results);
        };
        this.queue.push({ item, resolve: done, reject });
      });
      this.schedule();
    });
  }

  /** Resolves once everything submitted so far has committed or failed. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running || this.scheduled) await Bun.sleep(1);
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate lets every request already read from the sockets join this batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, BATCH_ITEMS_MAX);
    if (batch.length === 0) return;
    this.running = true;
    try {
      const results = await this.commit(batch.map((p) => p.item));
      if (results.length !== batch.length) throw new Error(`invariant: a commit of ${batch.length} writes returned ${results.length} results`);
      batch.forEach((p, i) => p.resolve(results[i] as R));
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
