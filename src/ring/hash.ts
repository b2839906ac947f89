// The ring's hash: XXH64 with seed 0, as the Go original used (cespare/xxhash), split into 32-bit halves for cheap compares.

export type Hash64 = (text: string) => bigint;

/** XXH64, seed 0. Bun.hash() alone is Wyhash, which would place keys differently from the original. */
export const xxHash64: Hash64 = (text) => Bun.hash.xxHash64(text, 0n);

// One scratch word reused by every lookup: writing the BigInt into a typed array and reading the
// halves back avoids BigInt shifts and allocations on the hot path.
const scratch = new BigUint64Array(1);
const halves = new Uint32Array(scratch.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Stores `hash` and returns nothing; read the halves with `scratchHigh()` and `scratchLow()`. */
export function loadScratch(hash: bigint): void {
  scratch[0] = hash;
}

export function scratchHigh(): number {
  return halves[LITTLE_ENDIAN ? 1 : 0] ?? 0;
}

export function scratchLow(): number {
  return halves[LITTLE_ENDIAN ? 0 : 1] ?? 0;
}

export function joinHalves(high: number, low: number): bigint {
  return (BigInt(high) << 32n) | BigInt(low);
}

export const HASH_SPACE = 1n << 64n;
