// Schemas of the key-value routes; the one source of their types and of their Swagger entries.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { KEYS_PAGE_BYTES_MAX, PAGE_MAX, PAGE_SIZE_MAX, TTL_MS_MAX } from "../../node/node.ts";
import { BATCH_KEYS_MAX } from "../../node/batch.ts";
import { SCAN_LIMIT_MAX } from "../../node/scan.ts";

export const setBody = t.Object(
  {
    key: t.String({ minLength: 1, description: "Non-empty UTF-8, at most 1,024 bytes" }),
    value: t.String({ description: "At most VALUE_BYTES_MAX UTF-8 bytes (1 MiB by default)" }),
    // TypeBox's own Integer: Elysia's t.Integer also accepts a string of digits, and a string is not the SPEC's int.
    ttlMs: t.Optional(Type.Integer({ minimum: 1, maximum: TTL_MS_MAX, description: "Expire the key after this many milliseconds", error: `ttlMs must be an integer from 1 to ${TTL_MS_MAX}` })),
  },
  { additionalProperties: true },
);

export const keyParams = t.Object({ key: t.String({ minLength: 1, description: "The key, URL-encoded" }) });

export const getResponse = t.Object({ value: t.String(), nodeUrl: t.String() });

export const keysQuery = t.Object({
  page: t.Optional(t.Numeric({ minimum: 1, maximum: PAGE_MAX, multipleOf: 1, description: "1 when left out", error: `page must be an integer from 1 to ${PAGE_MAX}` })),
  pageSize: t.Optional(t.Numeric({ minimum: 1, maximum: PAGE_SIZE_MAX, multipleOf: 1, default: 20, error: `pageSize must be an integer from 1 to ${PAGE_SIZE_MAX}` })),
  after: t.Optional(t.String({ minLength: 1, description: "Cursor: list the keys after this one (a page's `next`); costs one page at any depth. Not with `page`.", error: "after must be a non-empty key" })),
});

export const keysResponse = t.Object({
  keys: t.Array(t.Object({ key: t.String(), value: t.String(), size: t.Integer({ description: "Value size in UTF-8 bytes" }) })),
  page: t.Optional(t.Integer({ description: "Absent in the cursor form (`after`)" })),
  pageSize: t.Integer(),
  total: t.Integer(),
  totalPages: t.Optional(t.Integer({ description: "Absent in the cursor form (`after`)" })),
  next: t.Union([t.String(), t.Null()], { description: "The last key of this page while more follow (pass it as `after`), else null" }),
  truncated: t.Boolean({ description: `True when the page's cap of ${KEYS_PAGE_BYTES_MAX} bytes of keys and values cut it short of pageSize entries; ask with a smaller pageSize for the rest` }),
});

export const replicasResponse = t.Object({
  key: t.String(),
  replicas: t.Array(
    t.Object({
      nodeUrl: t.String(),
      holds: t.Boolean({ description: "Whether the replica holds a record of the key (a tombstone counts)" }),
      version: t.Union([t.Object({ wallMs: t.Integer(), counter: t.Integer(), node: t.String() }), t.Null()], { description: "Hybrid logical clock version" }),
      tombstone: t.Boolean(),
      error: t.Optional(t.String({ description: "Why the replica could not be asked" })),
    }),
  ),
});

const batchKeys = `at most ${BATCH_KEYS_MAX}`;
const failedKey = {
  key: t.String(),
  code: t.String({ description: "The error code a single request would have answered with (unavailable, timeout, too_large, …)" }),
  error: t.String({ description: "What happened to this key; for a write, whether it may have been applied" }),
};

export const mgetBody = t.Object({ keys: t.Array(t.String(), { minItems: 1, maxItems: BATCH_KEYS_MAX, description: `The keys to read, ${batchKeys}` }) }, { additionalProperties: true });

export const mgetResponse = t.Object({
  results: t.Array(
    t.Union([
      t.Object({ key: t.String(), found: t.Literal(true), value: t.String(), nodeUrl: t.String() }),
      t.Object({ key: t.String(), found: t.Literal(false) }),
      t.Object(failedKey),
    ]),
    { description: "One per key asked, in the same order" },
  ),
});

export const msetBody = t.Object(
  {
    entries: t.Array(
      t.Object({ key: t.String(), value: t.String(), ttlMs: setBody.properties.ttlMs }, { additionalProperties: true }),
      { minItems: 1, maxItems: BATCH_KEYS_MAX, description: `The writes, ${batchKeys}; each is a SET of its own, and of entries naming one key the last wins` },
    ),
  },
  { additionalProperties: true },
);

export const msetResponse = t.Object({
  results: t.Array(t.Union([t.Object({ key: t.String(), ok: t.Literal(true) }), t.Object({ ...failedKey, ok: t.Literal(false) })]), { description: "One per entry, in the same order" }),
  written: t.Integer({ description: "Entries acknowledged by their write quorum" }),
  failed: t.Integer({ description: "Entries not acknowledged; their results say whether each may have been applied" }),
});

export const scanQuery = t.Object({
  cursor: t.Optional(t.String({ description: "The `next` of the page before; left out, the scan starts at the beginning of the ring" })),
  limit: t.Optional(t.Numeric({ minimum: 1, maximum: SCAN_LIMIT_MAX, multipleOf: 1, error: `limit must be an integer from 1 to ${SCAN_LIMIT_MAX}` })),
  prefix: t.Optional(t.String({ description: "Only keys starting with this (filtered as the ring is walked: a page may hold fewer, or none, with a cursor to go on)" })),
});

export const scanResponse = t.Object({
  keys: t.Array(
    t.Object({
      key: t.String(),
      value: t.String(),
      version: t.Object({ wallMs: t.Integer(), counter: t.Integer(), node: t.String() }, { description: "Hybrid logical clock version" }),
      expiresAtMs: t.Union([t.Integer(), t.Null()], { description: "Wall time the key expires at, or null" }),
    }),
  ),
  next: t.Union([t.String(), t.Null()], { description: "The cursor of the next page, or null once the whole ring was visited" }),
});
