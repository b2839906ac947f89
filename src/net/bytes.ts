// Joining the chunks a socket delivered: once, when enough of them are in to go on.

/** The chunks in order, copied into one array of `total` bytes (their lengths summed). */
export function concatAll(parts: readonly Uint8Array[], total: number): Uint8Array {
  const joined = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}
