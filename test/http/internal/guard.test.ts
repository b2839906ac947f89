// The guard of internal and admin endpoints: the CLUSTER_SECRET check, browsers refused, JSON bodies only.
import { describe, expect, test } from "bun:test";
import { internalGuard, secretAccepted } from "../../../src/http/internal/guard.ts";
import { NodeError } from "../../../src/node/errors.ts";
import { SECRET_HEADER } from "../../../src/node/peer-client.ts";

describe("secretAccepted", () => {
  test.each([
    ["no secret is configured and none is presented", "", null, true],
    ["no secret is configured and any is presented", "", "whatever", true],
    ["the configured secret is presented", "s3cret", "s3cret", true],
    ["a long secret is presented exactly", "x".repeat(4096), "x".repeat(4096), true],
    ["a secret is configured and none is presented", "s3cret", null, false],
    ["a secret is configured and an empty one is presented", "s3cret", "", false],
    ["a prefix of the secret is presented", "s3cret", "s3cre", false],
    ["the secret with more after it is presented", "s3cret", "s3cret ", false],
    ["the secret in another case is presented", "s3cret", "S3CRET", false],
    ["a secret of the same length that differs in its last character is presented", "s3cret", "s3cres", false],
  ])("when %s, secretAccepted is %p", (_name, configured, presented, accepted) => {
    expect(secretAccepted(configured, presented)).toBe(accepted);
  });
});

/** The code the guard refuses a request with, or "ok". */
function verdict(secret: string, method: string, headers: Record<string, string>): string {
  try {
    internalGuard(secret)({ request: new Request("http://127.0.0.1:7001/api/v1/replica/put", { method, headers }) });
    return "ok";
  } catch (error) {
    if (error instanceof NodeError) return error.code;
    throw error;
  }
}

describe("internalGuard", () => {
  const json = { "content-type": "application/json" };
  test.each([
    ["a peer's JSON POST", "", "POST", json, "ok"],
    ["a JSON POST with a charset", "", "POST", { "content-type": "application/json; charset=utf-8" }, "ok"],
    ["a GET with no body and no content type", "", "GET", {}, "ok"],
    ["a POST with the right secret", "s3cret", "POST", { ...json, [SECRET_HEADER]: "s3cret" }, "ok"],
    ["any request with an Origin, even the node's own", "", "POST", { ...json, origin: "http://127.0.0.1:7001" }, "forbidden"],
    ["a GET a browser marks cross-site", "", "GET", { "sec-fetch-site": "cross-site" }, "forbidden"],
    ["a GET a browser marks same-origin", "", "GET", { "sec-fetch-site": "same-origin" }, "forbidden"],
    ["a request a person typed into the address bar", "", "GET", { "sec-fetch-site": "none" }, "ok"],
    ["a text/plain POST (no preflight needed)", "", "POST", { "content-type": "text/plain" }, "unsupported_media_type"],
    ["a form POST", "", "POST", { "content-type": "application/x-www-form-urlencoded" }, "unsupported_media_type"],
    ["a POST with no content type", "", "POST", {}, "unsupported_media_type"],
    ["a POST without the secret, told 401 before its body type", "s3cret", "POST", {}, "unauthorized"],
    ["a browser with the secret, still refused", "s3cret", "POST", { ...json, [SECRET_HEADER]: "s3cret", origin: "http://evil.example" }, "forbidden"],
  ])("%s: %s", (_name, secret, method, headers, expected) => {
    expect(verdict(secret, method, headers)).toBe(expected);
  });
});
