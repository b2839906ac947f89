// The Redis front door: a TCP listener (REDIS_PORT) speaking RESP2, and RESP3 after HELLO 3. Commands of one
// connection run one after another and their replies go out in order, so pipelining works; a malformed frame
// gets an error and closes that connection alone. Input, queued commands and unsent output are bounded.
import type { Socket, TCPSocketListener } from "bun";
import { SocketWrites } from "../net/socket-writes.ts";
import { batchBytesMax } from "../node/batch.ts";
import { CommandParser, encodeReply, reply, RespProtocolError } from "./codec.ts";
import type { RespCommands, Session } from "./commands.ts";

/** Commands one connection may have waiting (pipelined) at once; past it the connection is closed. */
export const RESP_QUEUED_COMMANDS_MAX = 10_000;
/**
 * Bytes of arguments one connection may have waiting in commands received and not yet run (at least one command of
 * the largest size); past it the connection is closed, as past RESP_QUEUED_COMMANDS_MAX.
 */
export const RESP_QUEUED_BYTES_MAX = 64 * 1024 * 1024;
/** A command begun must be whole within this, as an HTTP body must (BODY_READ_TIMEOUT_MS): a client that stops half-way holds its bytes. */
export const RESP_COMMAND_READ_TIMEOUT_MS = 10_000;
/** Reply bytes waiting for a slow reader; past it the connection is closed. */
export const RESP_OUTPUT_BYTES_MAX = 64 * 1024 * 1024;
/** Replies gathered into one socket write at most (a long pipeline still answers as it goes). */
const REPLIES_PER_WRITE_MAX = 256;
/** Bytes of arguments one command carries beside the largest value: the key and the command's other words. */
const ARGUMENT_SLACK_BYTES = 64 * 1024;

interface Connection {
  readonly parser: CommandParser;
  readonly session: Session;
  queue: Buffer[][];
  /** Bytes of the arguments in `queue`. */
  queuedBytes: number;
  /** Closes the connection when the command it is receiving is not whole in time; set while one is partly in. */
  partial: Timer | undefined;
  running: boolean;
  /** Replies the socket has not taken yet. */
  readonly unsent: SocketWrites;
  closed: boolean;
}

export interface RespServerOptions {
  readonly hostname: string;
  readonly port: number;
  readonly commands: RespCommands;
  readonly valueBytesMax: number;
  /** Told why a connection was closed for breaking the protocol or its bounds. */
  readonly onRefused?: (reason: string) => void;
  /** See RESP_COMMAND_READ_TIMEOUT_MS (tests shorten it). */
  readonly commandReadTimeoutMs?: number;
}

const argumentBytes = (args: readonly Buffer[]) => args.reduce((sum, arg) => sum + arg.length, 0);

export function serveResp(options: RespServerOptions): TCPSocketListener<Connection> {
  let nextId = 1;
  // An MSET of a full batch, or a SET of the largest value, with its key and words.
  const commandBytesMax = batchBytesMax(options.valueBytesMax) + ARGUMENT_SLACK_BYTES;
  const queuedBytesMax = Math.max(RESP_QUEUED_BYTES_MAX, commandBytesMax);
  const readTimeoutMs = options.commandReadTimeoutMs ?? RESP_COMMAND_READ_TIMEOUT_MS;
  const refuse = (socket: Socket<Connection>, message: string, reason: string) => {
    write(socket, encodeReply(reply.error(message), socket.data.session.protocol));
    close(socket, reason);
  };
  const write = (socket: Socket<Connection>, bytes: Buffer) => {
    const connection = socket.data;
    if (connection.closed) return;
    connection.unsent.send(socket, bytes);
    if (connection.unsent.bytes > RESP_OUTPUT_BYTES_MAX) close(socket, "the client does not read its replies");
  };
  const close = (socket: Socket<Connection>, reason?: string) => {
    if (socket.data.closed) return;
    socket.data.closed = true;
    clearTimeout(socket.data.partial);
    if (reason !== undefined) options.onRefused?.(reason);
    socket.end();
  };
  const runQueue = async (socket: Socket<Connection>) => {
    const connection = socket.data;
    if (connection.running) return;
    connection.running = true;
    // Replies of commands that arrived together leave together: one socket write per burst, not per command.
    const replies: Buffer[] = [];
    const flush = () => {
      if (replies.length === 0) return;
      write(socket, replies.length === 1 ? replies[0]! : Buffer.concat(replies));
      replies.length = 0;
    };
    try {
      while (connection.queue.length > 0 && !connection.closed) {
        const args = connection.queue.shift()!;
        connection.queuedBytes -= argumentBytes(args);
        const answer = await options.commands.run(args, connection.session);
        replies.push(encodeReply(answer, connection.session.protocol));
        if (connection.session.closing) {
          flush();
          return close(socket);
        }
        if (connection.queue.length === 0 || replies.length >= REPLIES_PER_WRITE_MAX) flush();
      }
    } finally {
      flush();
      connection.running = false;
    }
  };
  return Bun.listen<Connection>({
    hostname: options.hostname,
    port: options.port,
    socket: {
      open(socket) {
        socket.data = {
          parser: new CommandParser(options.valueBytesMax + ARGUMENT_SLACK_BYTES, commandBytesMax),
          session: { protocol: 2, authenticated: !options.commands.needsAuth, name: "", id: nextId++, closing: false },
          queue: [],
          queuedBytes: 0,
          partial: undefined,
          running: false,
          unsent: new SocketWrites(),
          closed: false,
        };
      },
      data(socket, chunk) {
        const connection = socket.data;
        if (connection.closed) return;
        let commands: Buffer[][];
        try {
          commands = connection.parser.push(new Uint8Array(chunk));
        } catch (error) {
          const message = error instanceof RespProtocolError ? error.message : "malformed frame";
          return refuse(socket, `ERR Protocol error: ${message}`, `protocol error: ${message}`);
        }
        for (const args of commands) connection.queuedBytes += argumentBytes(args);
        connection.queue.push(...commands);
        if (connection.queue.length > RESP_QUEUED_COMMANDS_MAX) return refuse(socket, `ERR more than ${RESP_QUEUED_COMMANDS_MAX} commands pipelined at once`, "too many pipelined commands");
        if (connection.queuedBytes + connection.parser.pendingBytes > queuedBytesMax) {
          return refuse(socket, `ERR more than ${queuedBytesMax} bytes of commands pipelined at once`, "too many bytes of pipelined commands");
        }
        // The deadline runs from the first byte of the command not yet whole: a new one restarts it.
        if (connection.parser.idle || commands.length > 0) {
          clearTimeout(connection.partial);
          connection.partial = undefined;
        }
        if (!connection.parser.idle && connection.partial === undefined) {
          connection.partial = setTimeout(() => refuse(socket, `ERR Protocol error: a command was not whole within ${readTimeoutMs} ms`, "a command arrived too slowly"), readTimeoutMs);
        }
        void runQueue(socket);
      },
      drain(socket) {
        socket.data.unsent.flush(socket);
      },
      close(socket) {
        socket.data.closed = true;
        clearTimeout(socket.data.partial);
        socket.data.queue = [];
      },
      error(socket) {
        socket.data.closed = true;
        clearTimeout(socket.data.partial);
      },
    },
  });
}
