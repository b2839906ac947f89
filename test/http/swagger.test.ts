// The Swagger UI and OpenAPI document, served by a real node process: no asset from another host, every public route documented.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startNode, type NodeProcess } from "../support/node-process.ts";
import { tempDir, type TempDir } from "../support/temp-dir.ts";

/** The public API of SPEC §4, in OpenAPI path syntax. */
const PUBLIC_ROUTES = [
  { method: "post", path: "/api/v1/set" },
  { method: "get", path: "/api/v1/get/{key}" },
  { method: "delete", path: "/api/v1/del/{key}" },
  { method: "get", path: "/api/v1/keys" },
  { method: "get", path: "/api/v1/cluster/state" },
  { method: "get", path: "/api/v1/cluster/ring" },
  { method: "get", path: "/api/v1/cluster/gossip" },
  { method: "get", path: "/api/v1/health" },
] as const;

interface SchemaObject {
  type?: string;
  properties?: Record<string, SchemaObject>;
  required?: string[];
}

interface Operation {
  requestBody?: { content?: Record<string, { schema?: SchemaObject }> };
  responses?: Record<string, { content?: Record<string, { schema?: SchemaObject }> }>;
  parameters?: { name: string; in: string }[];
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

// One node serves every test here: the page and document are read-only, and a process start is the slow part.
let dir: TempDir;
let node: NodeProcess;

beforeAll(async () => {
  dir = await tempDir();
  node = await startNode({ dataDir: dir.path, backend: "memory" });
});

afterAll(async () => {
  await node?.stop();
  await dir?.[Symbol.asyncDispose]();
});

function attributes(html: string, tag: string, attribute: string): string[] {
  const pattern = new RegExp(`<${tag}\\b[^>]*\\b${attribute}\\s*=\\s*["']([^"']+)["']`, "gi");
  return [...html.matchAll(pattern)].map((match) => match[1]!);
}

describe("/swagger", () => {
  test("is an HTML page whose scripts and styles all come from this node", async () => {
    const response = await fetch(`${node.url}/swagger`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/html");
    const html = await response.text();
    const assets = [...attributes(html, "script", "src"), ...attributes(html, "link", "href")];
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) expect(new URL(asset, response.url).origin).toBe(node.url);
    // Nothing anywhere in the page may point at another host, not even inside inline script.
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/["'(=\s]\/\/[^\s"'<>]/);
  });

  test("every script and stylesheet the page loads answers 200 with a non-empty body of the right type", async () => {
    const page = await fetch(`${node.url}/swagger`);
    const html = await page.text();
    const scripts = attributes(html, "script", "src");
    const styles = attributes(html, "link", "href");
    expect(scripts.length).toBeGreaterThanOrEqual(1);
    expect(styles.length).toBeGreaterThanOrEqual(1);
    for (const [list, type] of [[scripts, "javascript"], [styles, "css"]] as const) {
      for (const asset of list) {
        const response = await fetch(new URL(asset, page.url));
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toContain(type);
        expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
      }
    }
  });

  test.each(["/swagger", "/swagger/", "/swagger/?tab=1"])("the document URL the page at %p hands Swagger UI resolves to the OpenAPI JSON", async (pagePath) => {
    const page = await fetch(`${node.url}${pagePath}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const configured = /"url"\s*:\s*"([^"]+)"/.exec(html)?.[1];
    expect(configured).toBeDefined();
    const response = await fetch(new URL(configured!, page.url));
    expect(response.status).toBe(200);
    expect(((await response.json()) as OpenApiDocument).openapi).toStartWith("3.");
  });

  test("an unknown asset name answers 404 JSON, not a file from the disk", async () => {
    const response = await fetch(`${node.url}/swagger/assets/package.json`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe("route_not_found");
  });
});

describe("/swagger/json", () => {
  let doc: OpenApiDocument;

  beforeAll(async () => {
    const response = await fetch(`${node.url}/swagger/json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/json");
    doc = (await response.json()) as OpenApiDocument;
  });

  test("is an OpenAPI 3 document", () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
  });

  test.each(PUBLIC_ROUTES)("lists $method $path", ({ method, path }) => {
    expect(Object.keys(doc.paths)).toContain(path);
    expect(Object.keys(doc.paths[path] ?? {})).toContain(method);
  });

  test.each(PUBLIC_ROUTES)("$method $path documents a schema for its 200 response", ({ method, path }) => {
    const ok = doc.paths[path]?.[method]?.responses?.["200"];
    const schemas = Object.values(ok?.content ?? {}).map((media) => media.schema);
    expect(schemas.length).toBeGreaterThan(0);
    for (const schema of schemas) expect(schema?.type).toBeDefined();
  });

  test("set documents its JSON request body with key, value and ttlMs", () => {
    const content = doc.paths["/api/v1/set"]?.post?.requestBody?.content ?? {};
    const schema = content["application/json"]?.schema;
    expect(schema?.type).toBe("object");
    expect(schema?.required?.sort()).toEqual(["key", "value"]);
    expect(schema?.properties?.key?.type).toBe("string");
    expect(schema?.properties?.value?.type).toBe("string");
    expect(schema?.properties?.ttlMs?.type).toBe("integer");
  });

  test("get documents the key path parameter and its {value, nodeUrl} response", () => {
    const operation = doc.paths["/api/v1/get/{key}"]?.get;
    expect(operation?.parameters).toContainEqual(expect.objectContaining({ name: "key", in: "path" }));
    const schema = operation?.responses?.["200"]?.content?.["application/json"]?.schema;
    expect(Object.keys(schema?.properties ?? {}).sort()).toEqual(["nodeUrl", "value"]);
  });

  test("keys documents its page query and its listing response", () => {
    const operation = doc.paths["/api/v1/keys"]?.get;
    expect(operation?.parameters?.map((p) => p.name).sort()).toEqual(["after", "page", "pageSize"]);
    const schema = operation?.responses?.["200"]?.content?.["application/json"]?.schema;
    expect(Object.keys(schema?.properties ?? {}).sort()).toEqual(["keys", "next", "page", "pageSize", "total", "totalPages", "truncated"]);
  });

  test("hides the asset route, which is no part of the API", () => {
    expect(Object.keys(doc.paths).filter((path) => path.includes("assets"))).toEqual([]);
  });
});
