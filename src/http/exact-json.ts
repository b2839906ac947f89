// JSON with 64-bit integers written as exact digits, which JSON.stringify cannot do for BigInt.

/** A marker no JSON string of ours contains: a NUL byte, which JSON.stringify always escapes. */
const MARK = "\u0000bigint:";
const MARKED = /"\\u0000bigint:(\d+)"/g;

export function stringifyExact(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${MARK}${v.toString()}` : v));
  return text.replace(MARKED, "$1");
}

export function exactJsonResponse(value: unknown): Response {
  return new Response(stringifyExact(value), { headers: { "content-type": "application/json" } });
}
