// What every attack test checks last: the node it attacked still takes a write and reads it back.
import { expect } from "bun:test";
import { fetchNode } from "../support/cluster.ts";

export const JSON_HEADERS = { "content-type": "application/json" } as const;

export function setKey(url: string, key: string, value: string): Promise<Response> {
  return fetchNode(`${url}/api/v1/set`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ key, value }) });
}

export async function expectStillServes(url: string): Promise<void> {
  expect((await setKey(url, "after the attack", "still serving")).status).toBe(200);
  const read = await fetchNode(`${url}/api/v1/get/${encodeURIComponent("after the attack")}`);
  expect(read.status).toBe(200);
  expect(await read.json()).toMatchObject({ value: "still serving" });
}
