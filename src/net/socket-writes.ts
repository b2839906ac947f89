// Bytes for a socket that did not take them all yet: written in order as it drains, counted so the owner can bound them.

/** What a Bun socket offers for writing: how many bytes it took (less than asked, or -1, when its buffer is full). */
export interface WritableSocket {
  write(data: Uint8Array): number;
}

export class SocketWrites {
  private parts: Uint8Array[] = [];
  private waitingBytes = 0;

  /** Bytes waiting for the socket. */
  get bytes(): number {
    return this.waitingBytes;
  }

  /** Writes `data` now, behind what waits; what the socket does not take waits. No socket yet (or `hold`): it all waits. */
  send(socket: WritableSocket | undefined, data: Uint8Array): void {
    if (socket === undefined || this.parts.length > 0) {
      this.keep(data);
      return;
    }
    const written = Math.max(0, socket.write(data));
    if (written < data.length) this.keep(data.subarray(written));
  }

  /** Writes what waits, in order, until the socket takes no more (call it on drain). */
  flush(socket: WritableSocket | undefined): void {
    while (this.parts.length > 0 && socket !== undefined) {
      const part = this.parts[0]!;
      const written = Math.max(0, socket.write(part));
      this.waitingBytes -= written;
      if (written < part.length) {
        this.parts[0] = part.subarray(written);
        return;
      }
      this.parts.shift();
    }
  }

  /** Drops what waits (the connection ended). */
  clear(): void {
    this.parts = [];
    this.waitingBytes = 0;
  }

  private keep(data: Uint8Array): void {
    this.parts.push(data);
    this.waitingBytes += data.length;
  }
}
