// A stand-in OTLP/HTTP collector for the telemetry rows of the HTTP part: reads every export and answers at once.

export interface OtlpSink extends Disposable {
  readonly url: string;
  /** Exports received so far, by path (/v1/traces, /v1/metrics): proof the node really exported under load. */
  readonly received: ReadonlyMap<string, number>;
}

/** Runs in the bench process on 127.0.0.1, so what a collector costs the shared cores is part of the figure. */
export function startOtlpSink(): OtlpSink {
  const received = new Map<string, number>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      await request.arrayBuffer();
      const path = new URL(request.url).pathname;
      received.set(path, (received.get(path) ?? 0) + 1);
      return Response.json({});
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, received, [Symbol.dispose]: () => void server.stop(true) };
}
