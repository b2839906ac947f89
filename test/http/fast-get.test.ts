// The hot read's own answers and its hand-overs to the app: a node's refusal is answered in its words, anything
// else goes to the app, and the promise it gives the server never rejects (the server passes it to Bun as it is).
import type { BunRequest } from "bun";
import { describe, expect, test } from "bun:test";
import { FAST_GET_ROUTE, fastGet } from "../../src/http/kv/fast-get.ts";
import type { NodeMetrics } from "../../src/metrics/node-metrics.ts";
import { NodeError } from "../../src/node/errors.ts";
import type { LimeNode } from "../../src/node/node.ts";

const URL_OF = (key: string) => `http://127.0.0.1:8484/api/v1/get/${key}`;
/** A request as Bun's router hands it over: the key decoded, in params; `path` is what the URL holds after the route's prefix. */
const routed = (key: string, init: RequestInit = { headers: { host: "127.0.0.1:8484" } }, path = encodeURIComponent(key)) =>
  Object.assign(new Request(URL_OF(path), init), { params: { key } }) as unknown as BunRequest<typeof FAST_GET_ROUTE>;
const request = (key: string) => routed(key);

function thrown(error: Error): never {
  throw error;
}

/** A node whose quick read answers as `read` says (a later failure through `failed`, as LimeNode does), and metrics that keep what they are told. */
function handlerWith(read: (key: string) => unknown) {
  const recorded: number[] = [];
  const handedToApp: string[] = [];
  const node = { getQuick: (key: string, then: (found: { value: string; nodeUrl: string }) => unknown, failed: (error: unknown) => unknown) => {
    const found = read(key);
    return found instanceof Promise ? found.then((value) => then(value as { value: string; nodeUrl: string }), failed) : then(found as { value: string; nodeUrl: string });
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
    expect(await (await handle(request("far"))).json()).toEqual({ value: "w", nodeUrl: "m" });
    expect(recorded).toEqual([200, 200]);
  });

  test("answers the node's own refusal, thrown or rejected, in its words", async () => {
    const missing = new NodeError("not_found", "key not found");
    const { handle, recorded, handedToApp } = handlerWith((key) => (key === "thrown" ? thrown(missing) : Promise.reject(missing)));
    for (const key of ["thrown", "rejected"]) {
      const answer = await handle(request(key));
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
      const answer = await handle(request(key));
      expect(await answer.text()).toBe("from the app");
    }
    expect(handedToApp).toEqual([URL_OF("thrown"), URL_OF("rejected")]);
  });

  test("leaves to the app what it does not take: another method, a page's request, a Host the URL holds otherwise, a key the app reads another way", async () => {
    const { handle, recorded, handedToApp } = handlerWith(() => ({ value: "v", nodeUrl: "n" }));
    const host = (value: string) => ({ headers: { host: value } });
    const others = [
      routed("k", { method: "DELETE", headers: { host: "127.0.0.1:8484" } }),
      routed("k", { headers: { host: "127.0.0.1:8484", origin: "http://127.0.0.1:8484" } }),
      // Too short for the app to find the path where the router does, or held otherwise in the URL Bun builds.
      routed("k", host("abc")),
      routed("k", host("abcd:80")),
      routed("k", host("127.0.0.1:8484/x")),
      routed("k", host("u@127.0.0.1:8484")),
      // The router made U+FFFD of a bad escape, or took a dot segment the URL resolves.
      routed("\ufffd", undefined, "%ZZ"),
      routed("..", undefined, ""),
    ];
    for (const other of others) expect(await (await handle(other)).text()).toBe("from the app");
    expect(handedToApp).toHaveLength(others.length);
    expect(recorded).toEqual([]);
  });

  test("reads a plain key as the router gives it and any other as the app reads the URL", async () => {
    const asked: string[] = [];
    const { handle } = handlerWith((key) => (asked.push(key), { value: "v", nodeUrl: "n" }));
    // A Host of four characters is the first the app reads the path of as the router does.
    expect(await (await handle(routed("k", { headers: { host: "abcd" } }))).json()).toEqual({ value: "v", nodeUrl: "n" });
    // The router's reading of a key with a backslash or a raw byte is not the app's: the URL's is.
    await handle(routed("x\\..\\k", undefined, "k"));
    await handle(routed("Ã©", undefined, "%C3%A9"));
    await handle(routed("a b", undefined, "a%20b"));
    expect(asked).toEqual(["k", "k", "é", "a b"]);
  });
});
