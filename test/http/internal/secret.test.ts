// secretAccepted: the CLUSTER_SECRET check of internal endpoints.
import { expect, test } from "bun:test";
import { secretAccepted } from "../../../src/http/internal/secret.ts";

test.each([
  ["no secret is configured and none is presented", "", null, true],
  ["no secret is configured and any is presented", "", "whatever", true],
  ["the configured secret is presented", "s3cret", "s3cret", true],
  ["a secret of non-ASCII text is presented exactly", "clé 🔑", "clé 🔑", true],
  ["a long secret is presented exactly", "x".repeat(4096), "x".repeat(4096), true],
  ["a secret is configured and none is presented", "s3cret", null, false],
  ["a secret is configured and an empty one is presented", "s3cret", "", false],
  ["a prefix of the secret is presented", "s3cret", "s3cre", false],
  ["the secret with more after it is presented", "s3cret", "s3cret ", false],
  ["the secret in another case is presented", "s3cret", "S3CRET", false],
  ["a secret of the same length that differs in its last character is presented", "s3cret", "s3cres", false],
  ["the same text in another Unicode normal form is presented", "clé", "cle\u0301", false],
])("when %s, secretAccepted is %p", (_name, configured, presented, accepted) => {
  expect(secretAccepted(configured, presented)).toBe(accepted);
});
