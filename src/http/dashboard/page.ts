// The dashboard's HTML shell and the security headers that keep the page to this node and the other members.
import { memberOrigins } from "../origins.ts";
import type { Bundle } from "./bundle.ts";

export const DASHBOARD_PATH = "/dashboard";
export const ASSET_PREFIX = "/dashboard/assets";

/** A lime dot, inline so the page asks no one, not even this node, for an icon. */
const ICON = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%2384cc16'/%3E%3C/svg%3E";

/**
 * The page may load code and styles from this node only, and may connect only to this node and the
 * members known when it was served: even a bug in the page cannot send data anywhere else. A member
 * that joins later is reached after a reload (the page says so when the browser blocks a request).
 */
export function contentSecurityPolicy(origins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${origins.join(" ")}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function pageHtml(bundle: Bundle): string {
  const style = bundle.style === undefined ? "" : `<link rel="stylesheet" href="${ASSET_PREFIX}/${bundle.style}">`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LimeDB dashboard</title>
<link rel="icon" href="${ICON}">
${style}
</head>
<body>
<div id="app"><noscript>The LimeDB dashboard needs JavaScript.</noscript></div>
<script type="module" src="${ASSET_PREFIX}/${bundle.script}"></script>
</body>
</html>
`;
}

export function pageResponse(bundle: Bundle, memberUrls: readonly string[]): Response {
  return new Response(pageHtml(bundle), {
    headers: {
      "content-type": "text/html; charset=utf-8",
      // The shell names the current build's assets and the current members: always ask again.
      "cache-control": "no-cache",
      "content-security-policy": contentSecurityPolicy(memberOrigins(memberUrls)),
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    },
  });
}
