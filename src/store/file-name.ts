// Durable file names derived from NODE_URL: no `/` or `:` from the URL, and distinct for every URL.

/** `http://localhost:8484` becomes `localhost-8484-<hash>`; the hash keeps look-alike URLs apart. */
export function fileStem(nodeUrl: string): string {
  const readable = nodeUrl
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/[^A-Za-z0-9.-]+/g, "-")
    .replace(/^[.-]+|-+$/g, "")
    .slice(0, 80);
  const digest = Bun.hash.xxHash64(nodeUrl, 0n).toString(16).padStart(16, "0").slice(0, 10);
  return `${readable || "node"}-${digest}`;
}
