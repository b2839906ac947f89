// Value parsers for settings: each turns one raw string into a typed value or says what it accepts.

export type Parsed<T> = { ok: true; value: T } | { ok: false; accepted: string };

export type Parser<T> = (raw: string) => Parsed<T>;

export function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    const trimmed = raw.trim();
    const value = Number(trimmed);
    if (/^-?\d+$/.test(trimmed) && Number.isSafeInteger(value) && value >= min && value <= max) {
      return { ok: true, value };
    }
    return { ok: false, accepted: `an integer from ${min} to ${max}` };
  };
}

/** A fraction from 0 to 1 in plain decimal notation (0, 0.01, 1); no exponent, no percent sign. */
export function fraction(raw: string): Parsed<number> {
  const trimmed = raw.trim();
  const value = Number(trimmed);
  if (/^(0|1)?(\.\d+)?$/.test(trimmed) && trimmed !== "" && trimmed !== "." && value >= 0 && value <= 1) return { ok: true, value };
  return { ok: false, accepted: "a decimal from 0 to 1, e.g. 0.01" };
}

export function oneOf<const T extends string>(choices: readonly T[]): Parser<T> {
  return (raw) => {
    const value = raw.trim().toLowerCase();
    const match = choices.find((choice) => choice === value);
    return match === undefined ? { ok: false, accepted: `one of ${choices.join(", ")}` } : { ok: true, value: match };
  };
}

/** An http(s) origin such as http://10.0.0.5:8484; a path, query or credentials would change the node's identity. */
export function nodeUrl(raw: string): Parsed<string> {
  const accepted = "an http or https URL with a host and no path, e.g. http://10.0.0.5:8484";
  const trimmed = raw.trim().replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { ok: false, accepted };
  }
  const isHttp = url.protocol === "http:" || url.protocol === "https:";
  const bare = url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
  if (!isHttp || !bare || url.hostname === "") return { ok: false, accepted };
  return { ok: true, value: url.origin };
}

export function nodeUrlList(raw: string): Parsed<string[]> {
  const parts = raw.split(",").map((part) => part.trim()).filter((part) => part !== "");
  const urls: string[] = [];
  for (const part of parts) {
    const parsed = nodeUrl(part);
    if (!parsed.ok) return { ok: false, accepted: `comma-separated URLs, each ${parsed.accepted}` };
    if (!urls.includes(parsed.value)) urls.push(parsed.value);
  }
  return { ok: true, value: urls };
}

export function text(raw: string): Parsed<string> {
  return { ok: true, value: raw.trim() };
}

export function nonEmptyText(raw: string): Parsed<string> {
  const value = raw.trim();
  return value === "" ? { ok: false, accepted: "a non-empty value" } : { ok: true, value };
}

/** An OTLP endpoint: empty turns telemetry off. */
export function optionalUrl(raw: string): Parsed<string> {
  const value = raw.trim();
  if (value === "") return { ok: true, value };
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return { ok: true, value: url.href };
  } catch {
    // Falls through to the error below.
  }
  return { ok: false, accepted: "empty (off) or an http or https URL" };
}
