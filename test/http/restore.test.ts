// POST /api/v1/admin/restore through app.handle: behind the cluster secret; a record is written under its own
// version, and one older than what the key holds (a later write, a delete) is kept out.
import { expect, test } from "bun:test";
import { SECRET_HEADER } from "../../src/node/peer-client.ts";
import { buildTestApp, type Client } from "../support/app.ts";

const SECRET = "restore test secret";

function restore(client: Client, records: unknown[], secret = SECRET): Promise<Response> {
  return client.path("/api/v1/admin/restore", { method: "POST", headers: { "content-type": "application/json", [SECRET_HEADER]: secret }, body: JSON.stringify({ records }) });
}

const record = (key: string, value: string, wallMs: number) => ({ key, value, version: { wallMs, counter: 0, node: "http://127.0.0.1:7009" }, expiresAtMs: null });

test("a restore without the cluster secret is refused, and writes nothing", async () => {
  const { client, store } = buildTestApp({ replicationFactor: 1, secret: SECRET });
  expect((await restore(client, [record("k", "v", 1)], "wrong")).status).toBe(401);
  expect(await store.count()).toBe(0);
});

test("records are written under their own versions; an older one than the key holds is kept out", async () => {
  const { client, clock } = buildTestApp({ replicationFactor: 1, secret: SECRET });
  const old = clock.now() - 60_000;
  expect((await client.set("later", "written after the backup")).status).toBe(200);
  expect((await client.set("gone", "deleted after the backup")).status).toBe(200);
  expect((await client.del("gone")).status).toBe(200);
  const response = await restore(client, [record("fresh", "from the backup", old), record("later", "from the backup", old), record("gone", "from the backup", old)]);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({
    results: [{ key: "fresh", outcome: "restored" }, { key: "later", outcome: "kept" }, { key: "gone", outcome: "kept" }],
    restored: 1,
    kept: 2,
    failed: 0,
  });
  expect(((await (await client.get("fresh")).json()) as { value: string }).value).toBe("from the backup");
  expect(((await (await client.get("later")).json()) as { value: string }).value).toBe("written after the backup");
  expect((await client.get("gone")).status).toBe(404);
  // The restored version is the backup's own.
  const replicas = (await (await client.path("/api/v1/replicas/fresh")).json()) as { replicas: { version: unknown }[] };
  expect(replicas.replicas[0]!.version).toEqual(record("fresh", "", old).version);
  // Restoring it again changes nothing.
  expect(((await (await restore(client, [record("fresh", "from the backup", old)])).json()) as { kept: number }).kept).toBe(1);
});
