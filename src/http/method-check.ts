// Tells a wrong method (405) from an unknown path (404) by matching the path against the known routes.

interface RouteLike {
  readonly method: string;
  readonly path: string;
}

function patternOf(path: string): RegExp {
  const escaped = path
    .split("/")
    .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment === "*" ? ".*" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${escaped}$`);
}

/** Methods that have a route at this path; empty when the path is unknown. */
export function allowedMethods(routes: readonly RouteLike[], pathname: string): string[] {
  const methods = routes.filter((route) => route.method !== "ALL" && patternOf(route.path).test(pathname)).map((route) => route.method);
  return [...new Set(methods)].sort();
}
