// Keys by the time they expire, earliest first: what lets a store count its expired records by what expired since it
// last looked, not by every record that has an expiry. Entries are not removed when a key is written again; the
// caller checks each one it is handed against the record it holds, and the queue is rebuilt when stale ones pile up.

interface Entry {
  readonly atMs: number;
  readonly key: string;
}

export class ExpiryQueue {
  private heap: Entry[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(atMs: number, key: string): void {
    const heap = this.heap;
    heap.push({ atMs, key });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.atMs <= atMs) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = { atMs, key };
  }

  /** Hands every entry due at or before `nowMs` to `due`, earliest first, and drops it. */
  takeDue(nowMs: number, due: (key: string, atMs: number) => void): void {
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.atMs <= nowMs) {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) this.siftDown(last);
      due(top.key, top.atMs);
    }
  }

  /** Starts again from these entries (the live ones, when stale ones outnumber them). */
  rebuild(entries: Iterable<[string, number]>): void {
    this.heap = [];
    for (const [key, atMs] of entries) this.push(atMs, key);
  }

  private siftDown(entry: Entry): void {
    const heap = this.heap;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.atMs < heap[left]!.atMs ? right : left;
      if (heap[child]!.atMs >= entry.atMs) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = entry;
  }
}
