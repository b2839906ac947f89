// The hot read's own answers and its hand-overs to the app: a node's refusal is answered in its words, anything
// else goes to the app, and the promise it gives the server never rejects (the server passes it to Bun as it is).
import { describe, expect, test } from "bun:test";
import { fastGet } from "../../src/http/kv/fast-get.ts";
import type { NodeMetrics } from "../../src/metrics/node-metrics.ts";
import { NodeError } from "../../src/node/errors.ts";
import type { LimeNode } from "../../src/node/node.ts";

const URL_OF = (key: string) => `http://127.0.0.1:8484/api/v1/get/${key}`;
const request = (key: string) => new Request(URL_OF(key), { headers: { host: "127.0.0.1:8484" } });

function thrown(error: Error): never {
  throw error;
}

/** A node whose quick read answers as `read` says, and metrics that keep what they are told. */
function handlerWith(read: (key: string) => unknown) {
  const recorded: number[] = [];
  const handedToApp: string[] = [];
  const node = { getQuick: (key: string, then: (found: { value: string; nodeUrl: string }) => unknown) => {
    const found = read(key);
    return found instanceof Promise ? found.then((value) => then(value as { value: string; nodeUrl: string })) : then(found as { value: string; nodeUrl: string });
  } } as unknown as LimeNode;
  const metrics = { requestRecorder: () => (status: number) => void recorded.push(status) } as unknown as NodeMetrics;
  const handle = fastGet({
    node,
    hostAllowed: () => true,
    metrics,
    nowMs: () => 0,
    wallMs: () => 0,
    app: (req) => {
      handedToApp.push(req.url);
      return new Response("from the app", { status: 500 });
    },
  });
  return { handle, recorded, handedToApp };
}

describe("fastGet", () => {
  test("answers a value at once, and a forwarded one through a promise", async () => {
    const { handle, recorded } = handlerWith((key) => (key === "near" ? { value: "v", nodeUrl: "n" } : Promise.resolve({ value: "w", nodeUrl: "m" })));
    const near = handle(request("near"));
    expect(near).toBeInstanceOf(Response);
    expect(await (near as Response).json()).toEqual({ value: "v", nodeUrl: "n" });
    expect(await (await handle(request("far"))!).json()).toEqual({ value: "w", nodeUrl: "m" });
    expect(recorded).toEqual([200, 200]);
  });

  test("answers the node's own refusal, thrown or rejected, in its words", async () => {
    const missing = new NodeError("not_found", "key not found");
    const { handle, recorded, handedToApp } = handlerWith((key) => (key === "thrown" ? thrown(missing) : Promise.reject(missing)));
    for (const key of ["thrown", "rejected"]) {
      const answer = await handle(request(key))!;
      expect(answer.status).toBe(404);
      expect(await answer.json()).toMatchObject({ code: "not_found" });
    }
    expect(recorded).toEqual([404, 404]);
    expect(handedToApp).toEqual([]);
  });

  test("hands a failure that is not the node's own to the app, thrown or rejected, and never rejects", async () => {
    const defect = new TypeError("a defect");
    const { handle, handedToApp } = handlerWith((key) => (key === "thrown" ? thrown(defect) : Promise.reject(defect)));
    for (const key of ["thrown", "rejected"]) {
      const answer = await handle(request(key))!;
      expect(await answer.text()).toBe("from the app");
    }
    expect(handedToApp).toEqual([URL_OF("thrown"), URL_OF("rejected")]);
  });

  test("leaves to the app what it does not take: another method, a page's request", () => {
    const { handle } = handlerWith(() => ({ value: "v", nodeUrl: "n" }));
    expect(handle(new Request(URL_OF("k"), { method: "DELETE", headers: { host: "127.0.0.1:8484" } }))).toBeUndefined();
    expect(handle(new Request(URL_OF("k"), { headers: { host: "127.0.0.1:8484", origin: "http://127.0.0.1:8484" } }))).toBeUndefined();
  });
});
