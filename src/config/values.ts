// Value parsers for settings: each turns one raw string into a typed value or says what it accepts.
import { isNodeUrl } from "../net/node-url.ts";

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

/**
 * An http(s) origin such as http://10.0.0.5:8484; a path, query or credentials would change the node's
 * identity. Written loosely (upper case, a trailing slash, a default port) it is taken as its origin, which
 * must then pass the very rule peers apply to member URLs in gossip, or this node could never be a member.
 */
export function nodeUrl(raw: string): Parsed<string> {
  const accepted = "an http or https URL with a host name (letters, digits, dashes, dots), an IPv4 or [IPv6] address, an optional port 1-65535 and no path, e.g. http://10.0.0.5:8484";
  const trimmed = raw.trim().replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { ok: false, accepted };
  }
  const isHttp = url.protocol === "http:" || url.protocol === "https:";
  const bare = url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
  if (!isHttp || !bare || url.hostname === "" || !isNodeUrl(url.origin)) return { ok: false, accepted };
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

/** Text that can travel in an HTTP header as it is: printable ASCII and spaces (empty is allowed). */
export function headerSafeText(raw: string): Parsed<string> {
  const value = raw.trim();
  if (/^[\x20-\x7e]*$/.test(value)) return { ok: true, value };
  return { ok: false, accepted: "printable ASCII (it travels in an HTTP header), or empty" };
}

/** A host name or address as a Host header carries it, without the port: letters, digits, dots, dashes, or [IPv6]. */
const HOST_NAME = /^([a-z0-9-]+(\.[a-z0-9-]+)*\.?|\[[0-9a-f:.]+\])$/;

/** Comma-separated host names (no scheme, no port), lower-cased; `*` alone means any host. */
export function hostList(raw: string): Parsed<string[]> {
  const parts = raw.split(",").map((part) => part.trim().toLowerCase()).filter((part) => part !== "");
  if (parts.length === 1 && parts[0] === "*") return { ok: true, value: ["*"] };
  if (parts.every((part) => HOST_NAME.test(part))) return { ok: true, value: [...new Set(parts)] };
  return { ok: false, accepted: "comma-separated host names or addresses without scheme or port (e.g. db.example.com,10.0.0.5), or *" };
}

/** Comma-separated origins (scheme://host[:port], no path); `*` alone means any origin. */
export function originList(raw: string): Parsed<string[]> {
  const parts = raw.split(",").map((part) => part.trim()).filter((part) => part !== "");
  if (parts.length === 1 && parts[0] === "*") return { ok: true, value: ["*"] };
  const origins: string[] = [];
  for (const part of parts) {
    const parsed = nodeUrl(part);
    if (!parsed.ok || parsed.value !== part.replace(/\/+$/, "").toLowerCase()) {
      return { ok: false, accepted: "comma-separated origins such as https://app.example.com or http://localhost:3000 (no path), or *" };
    }
    origins.push(parsed.value);
  }
  return { ok: true, value: [...new Set(origins)] };
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
