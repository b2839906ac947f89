// Finds a TCP port on 127.0.0.1 that nothing listens on, for a node process that must be told its port up front.

/**
 * Asks the kernel for an unused port by binding port 0, then releases it. Another process can take
 * the port before the node binds it; startNode notices (the node exits saying it cannot listen) and
 * tries a fresh port.
 */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}
