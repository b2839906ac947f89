// Oversized request bodies for limit tests: a stream with no Content-Length that counts what was pulled.

export interface CountedStream {
  readonly body: ReadableStream<Uint8Array>;
  /** Bytes the reader pulled so far: a capped reader stops long before the total. */
  readonly pulledBytes: () => number;
}

export function streamOfSpaces(totalBytes: number, chunkBytes: number): CountedStream {
  let pulled = 0;
  const chunk = new Uint8Array(chunkBytes).fill(0x20);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= totalBytes) return controller.close();
      pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { body, pulledBytes: () => pulled };
}
