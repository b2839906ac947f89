// Small formatting helpers for the page: sizes, durations, percentages, times and short node names.

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatPercent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleTimeString("en-GB", { hour12: false });
}

/** A node URL without its scheme: `127.0.0.1:7001`, the part that tells members apart. */
export function shortUrl(url: string): string {
  return url.replace(/^https?:\/\//, "");
}

/**
 * Shorter names for lists of holders: `:7001` when every member runs on one host (a local cluster),
 * `host:port` otherwise.
 */
export function compactUrl(url: string, allUrls: readonly string[]): string {
  const hostOf = (u: string) => (URL.canParse(u) ? new URL(u).hostname : u);
  const host = hostOf(url);
  if (!URL.canParse(url) || !allUrls.every((u) => hostOf(u) === host)) return shortUrl(url);
  const parsed = new URL(url);
  return `:${parsed.port === "" ? (parsed.protocol === "https:" ? "443" : "80") : parsed.port}${parsed.pathname.replace(/\/+$/, "")}`;
}

/** The first `charsMax` characters of a value, on one line. */
export function preview(value: string, charsMax: number): string {
  const line = value.replace(/\s+/g, " ");
  return line.length > charsMax ? `${line.slice(0, charsMax - 1)}…` : line;
}

/** A colour per member, stable while the member list is: ring chart, node table and key holders agree. */
const PALETTE = ["#65a30d", "#0891b2", "#7c3aed", "#ea580c", "#db2777", "#ca8a04", "#2563eb", "#059669", "#dc2626", "#4b5563"];

export function colorOf(url: string, allUrls: readonly string[]): string {
  const index = [...allUrls].sort().indexOf(url);
  return PALETTE[(index < 0 ? 0 : index) % PALETTE.length] ?? "#4b5563";
}
