// The Redis commands LimeDB answers, each over the same coordinator as the HTTP API (its replicas, quorums and
// versions). NX, XX, GET and EXPIRE read and then write: best effort under concurrency (last write wins, no
// consensus), as the README says. Replies follow Redis's own shapes and error words, so clients parse them.
import { mget, mset } from "../node/batch.ts";
import { NodeError } from "../node/errors.ts";
import type { ClusterScan } from "../node/scan.ts";
import { secretAccepted } from "../net/secret.ts";
import { reply, type Reply } from "./codec.ts";
import { globMatcher } from "./glob.ts";

/** The version Redis clients are told (features they check for: HELLO, RESP3, SET GET). */
export const REDIS_COMPATIBLE_VERSION = "7.2.0";
/** Keys a SCAN page holds when COUNT is not given (Redis's own default). */
const SCAN_COUNT_DEFAULT = 10;
const SCAN_COUNT_MAX = 1_000;
/** A MATCH pattern longer than this is refused: matching costs its length times the key's. */
const MATCH_PATTERN_CHARS_MAX = 1_024;
/** Keys one DEL or EXISTS names at most (as a batch). */
const KEYS_PER_COMMAND_MAX = 1_000;

/** What the commands need of the node. */
export interface RespNode {
  readonly nodeUrl: string;
  readonly valueBytesMax: number;
  get(key: string): Promise<{ value: string; nodeUrl: string }>;
  lookup(key: string): Promise<{ value: string; expiresAtMs: number | undefined }>;
  set(key: string, value: string, ttlMs: number | undefined): Promise<void>;
  del(key: string): Promise<boolean>;
}

export interface RespDeps {
  readonly node: RespNode;
  readonly scan: ClusterScan;
  /** Passwords AUTH accepts (REDIS_PASSWORD, CLUSTER_SECRET). */
  readonly passwords: readonly string[];
  /** Whether a connection must AUTH before anything else (REDIS_PASSWORD set); otherwise, as the HTTP API, none needs to. */
  readonly authRequired: boolean;
  readonly wallClock: () => number;
  /** Lines of INFO beyond the server's own: replication settings, keyspace figures. */
  readonly info: () => Record<string, Record<string, string | number>>;
  /** Told of a failure that is this node's bug (main logs it). */
  readonly onInternalError?: (error: unknown, command: string) => void;
}

/** One connection's state: its protocol, whether it authenticated, its name. */
export interface Session {
  protocol: 2 | 3;
  authenticated: boolean;
  name: string;
  readonly id: number;
  /** Set by QUIT: the connection closes once the reply is written. */
  closing: boolean;
}

type Handler = (args: readonly Buffer[], session: Session) => Promise<Reply> | Reply;

class CommandError extends Error {}

const wrongArity = (name: string) => new CommandError(`ERR wrong number of arguments for '${name}' command`);
const syntax = () => new CommandError("ERR syntax error");
const notInteger = () => new CommandError("ERR value is not an integer or out of range");

function text(arg: Buffer): string {
  return arg.toString("utf8");
}

function integerArg(arg: Buffer): number {
  const raw = text(arg);
  if (!/^-?\d{1,16}$/.test(raw)) throw notInteger();
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw notInteger();
  return value;
}

/** The literal prefix of a glob (up to its first special character): the scan filters on it as it walks. */
function literalPrefix(pattern: string): string {
  const special = pattern.search(/[*?[\\]/);
  return special === -1 ? pattern : pattern.slice(0, special);
}

/** A node failure as a Redis error: Redis's ERR with the node's code and message. */
function nodeFailure(error: unknown): Reply {
  if (error instanceof NodeError) return reply.error(`ERR ${error.code}: ${error.message}`);
  throw error;
}

export class RespCommands {
  private readonly handlers: Record<string, Handler>;
  /** The DBSIZE walk under way: every DBSIZE that arrives meanwhile is answered by it, so clients cannot stack walks. */
  private counting: Promise<number> | undefined;

  constructor(private readonly deps: RespDeps) {
    const { node } = deps;
    const exact = (name: string, count: number, run: Handler): Handler => (args, session) => {
      if (args.length !== count) throw wrongArity(name);
      return run(args, session);
    };
    const atLeast = (name: string, count: number, run: Handler): Handler => (args, session) => {
      if (args.length < count) throw wrongArity(name);
      return run(args, session);
    };
    this.handlers = {
      ping: (args) => {
        if (args.length > 2) throw wrongArity("ping");
        return args.length === 2 ? reply.bulk(args[1]!) : reply.simple("PONG");
      },
      echo: exact("echo", 2, (args) => reply.bulk(args[1]!)),
      select: exact("select", 2, (args) => {
        if (integerArg(args[1]!) !== 0) throw new CommandError("ERR DB index is out of range");
        return reply.ok;
      }),
      quit: (_args, session) => {
        session.closing = true;
        return reply.ok;
      },
      auth: atLeast("auth", 2, (args, session) => {
        if (args.length > 3) throw syntax();
        this.authenticate(session, args.length === 3 ? text(args[1]!) : "default", text(args.at(-1)!));
        return reply.ok;
      }),
      hello: (args, session) => this.hello(args, session),
      client: atLeast("client", 2, (args, session) => this.client(args, session)),
      command: (args) => {
        const sub = args.length > 1 ? text(args[1]!).toLowerCase() : "";
        if (sub === "count") return reply.integer(Object.keys(this.handlers).length);
        if (sub === "docs") return reply.map([]);
        if (sub === "info") return reply.array(args.slice(2).map(() => reply.null));
        return reply.array([]);
      },
      get: exact("get", 2, async (args) => {
        try {
          return reply.bulk((await node.get(text(args[1]!))).value);
        } catch (error) {
          if (error instanceof NodeError && error.code === "not_found") return reply.null;
          return nodeFailure(error);
        }
      }),
      set: atLeast("set", 3, (args) => this.set(args)),
      del: atLeast("del", 2, async (args) => {
        const keys = args.slice(1).map(text);
        if (keys.length > KEYS_PER_COMMAND_MAX) throw new CommandError(`ERR at most ${KEYS_PER_COMMAND_MAX} keys per command`);
        let deleted = 0;
        for (const key of keys) if (await node.del(key)) deleted++;
        return reply.integer(deleted);
      }),
      exists: atLeast("exists", 2, async (args) => {
        const keys = args.slice(1).map(text);
        if (keys.length > KEYS_PER_COMMAND_MAX) throw new CommandError(`ERR at most ${KEYS_PER_COMMAND_MAX} keys per command`);
        const results = await mget(node, keys, (error) => deps.onInternalError?.(error, "exists"));
        const failed = results.find((result) => "code" in result);
        if (failed !== undefined && "code" in failed) return reply.error(`ERR ${failed.code}: ${failed.error}`);
        return reply.integer(results.filter((result) => "found" in result && result.found).length);
      }),
      mget: atLeast("mget", 2, async (args) => {
        const results = await mget(node, args.slice(1).map(text), (error) => deps.onInternalError?.(error, "mget"));
        const failed = results.find((result) => "code" in result);
        if (failed !== undefined && "code" in failed) return reply.error(`ERR ${failed.code}: key ${failed.key}: ${failed.error}`);
        return reply.array(results.map((result) => ("found" in result && result.found ? reply.bulk(result.value) : reply.null)));
      }),
      mset: atLeast("mset", 3, async (args) => {
        if (args.length % 2 === 0) throw wrongArity("mset");
        const entries = [];
        for (let i = 1; i < args.length; i += 2) entries.push({ key: text(args[i]!), value: text(args[i + 1]!) });
        const results = await mset(node, entries, (error) => deps.onInternalError?.(error, "mset"));
        const failed = results.filter((result) => !result.ok);
        if (failed.length === 0) return reply.ok;
        const first = failed[0]!;
        return reply.error(`ERR ${failed.length} of ${results.length} keys were not written; ${"code" in first ? `${first.key}: ${first.error}` : ""}`);
      }),
      ttl: exact("ttl", 2, (args) => this.ttl(text(args[1]!), 1000)),
      pttl: exact("pttl", 2, (args) => this.ttl(text(args[1]!), 1)),
      expire: atLeast("expire", 3, (args) => this.expire(args, 1000)),
      pexpire: atLeast("pexpire", 3, (args) => this.expire(args, 1)),
      scan: atLeast("scan", 2, (args) => this.scan(args)),
      dbsize: exact("dbsize", 1, async () => reply.integer(await this.countKeys())),
      info: (args) => this.info(args),
    };
  }

  /**
   * The live keys, counted by walking the cluster-wide scan: exact for a quiet cluster, and as costly as the keys it
   * counts. The walk gives the event loop back after each page: the store answers a page without a real wait, so
   * otherwise the whole walk (0.7 s at 300k keys) would run as one turn, and the node would answer nothing else
   * meanwhile and then count itself paused.
   */
  private countKeys(): Promise<number> {
    this.counting ??= (async () => {
      let count = 0;
      let position = 0n;
      do {
        const page = await this.deps.scan.pageFromPosition(position, SCAN_COUNT_MAX);
        count += page.entries.length;
        position = page.next;
        await new Promise<void>((resolve) => setImmediate(resolve));
      } while (position !== 0n);
      return count;
    })().finally(() => {
      this.counting = undefined;
    });
    return this.counting;
  }

  /** Runs one command; a failure the client caused, or the node's, becomes an error reply. */
  async run(args: readonly Buffer[], session: Session): Promise<Reply> {
    const name = text(args[0]!).toLowerCase();
    const handler = Object.hasOwn(this.handlers, name) ? this.handlers[name] : undefined;
    if (handler === undefined) {
      const shown = args.slice(1, 4).map((arg) => `'${text(arg).slice(0, 64)}'`).join(" ");
      return reply.error(`ERR unknown command '${text(args[0]!).slice(0, 64)}', with args beginning with: ${shown}`);
    }
    if (!session.authenticated && !["auth", "hello", "quit"].includes(name)) return reply.error("NOAUTH Authentication required.");
    try {
      return await handler(args, session);
    } catch (error) {
      if (error instanceof CommandError) return reply.error(error.message);
      if (error instanceof NodeError) return nodeFailure(error);
      this.deps.onInternalError?.(error, name);
      return reply.error("ERR the node failed to handle this command; it has been logged");
    }
  }

  /** Whether a fresh connection needs AUTH first. */
  get needsAuth(): boolean {
    return this.deps.authRequired;
  }

  private authenticate(session: Session, user: string, password: string): void {
    if (this.deps.passwords.length === 0) {
      throw new CommandError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
    }
    const ok = user === "default" && this.deps.passwords.some((candidate) => secretAccepted(candidate, password));
    if (!ok) throw new CommandError("WRONGPASS invalid username-password pair or user is disabled.");
    session.authenticated = true;
  }

  private hello(args: readonly Buffer[], session: Session): Reply {
    let i = 1;
    if (args.length > 1) {
      const version = text(args[1]!);
      if (version !== "2" && version !== "3") throw new CommandError("NOPROTO unsupported protocol version");
      i = 2;
      const protocol = version === "3" ? 3 : 2;
      for (; i < args.length; i++) {
        const option = text(args[i]!).toLowerCase();
        if (option === "auth" && i + 2 < args.length) {
          this.authenticate(session, text(args[i + 1]!), text(args[i + 2]!));
          i += 2;
        } else if (option === "setname" && i + 1 < args.length) {
          session.name = text(args[++i]!);
        } else throw syntax();
      }
      if (!session.authenticated) return reply.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
      session.protocol = protocol;
    } else if (!session.authenticated) return reply.error("NOAUTH Authentication required.");
    return reply.map([
      [reply.bulk("server"), reply.bulk("redis")],
      [reply.bulk("version"), reply.bulk(REDIS_COMPATIBLE_VERSION)],
      [reply.bulk("proto"), reply.integer(session.protocol)],
      [reply.bulk("id"), reply.integer(session.id)],
      [reply.bulk("mode"), reply.bulk("standalone")],
      [reply.bulk("role"), reply.bulk("master")],
      [reply.bulk("modules"), reply.array([])],
    ]);
  }

  private client(args: readonly Buffer[], session: Session): Reply {
    const sub = text(args[1]!).toLowerCase();
    switch (sub) {
      case "setname":
        if (args.length !== 3) throw wrongArity("client|setname");
        session.name = text(args[2]!);
        return reply.ok;
      case "getname":
        return session.name === "" ? reply.null : reply.bulk(session.name);
      case "setinfo":
        if (args.length !== 4) throw wrongArity("client|setinfo");
        return reply.ok;
      case "id":
        return reply.integer(session.id);
      default:
        throw new CommandError(`ERR unknown subcommand '${sub.slice(0, 64)}'. Try CLIENT HELP.`);
    }
  }

  /** SET key value [EX s | PX ms] [NX | XX] [GET] [KEEPTTL]. */
  private async set(args: readonly Buffer[]): Promise<Reply> {
    const key = text(args[1]!);
    const value = text(args[2]!);
    let ttlMs: number | undefined;
    let condition: "nx" | "xx" | undefined;
    let get = false;
    let keepTtl = false;
    for (let i = 3; i < args.length; i++) {
      const option = text(args[i]!).toLowerCase();
      if ((option === "ex" || option === "px") && ttlMs === undefined && !keepTtl && i + 1 < args.length) {
        const amount = integerArg(args[++i]!);
        if (amount <= 0) throw new CommandError(`ERR invalid expire time in 'set' command`);
        ttlMs = option === "ex" ? amount * 1000 : amount;
      } else if ((option === "nx" || option === "xx") && condition === undefined) condition = option;
      else if (option === "get" && !get) get = true;
      else if (option === "keepttl" && ttlMs === undefined) keepTtl = true;
      else throw syntax();
    }
    const { node } = this.deps;
    let current: { value: string; expiresAtMs: number | undefined } | undefined;
    if (condition !== undefined || get || keepTtl) {
      try {
        current = await node.lookup(key);
      } catch (error) {
        if (!(error instanceof NodeError && error.code === "not_found")) return nodeFailure(error);
      }
    }
    const previous = get ? (current === undefined ? reply.null : reply.bulk(current.value)) : undefined;
    if ((condition === "nx" && current !== undefined) || (condition === "xx" && current === undefined)) return previous ?? reply.null;
    if (keepTtl && current?.expiresAtMs !== undefined) ttlMs = Math.max(1, current.expiresAtMs - this.deps.wallClock());
    try {
      await node.set(key, value, ttlMs);
    } catch (error) {
      return nodeFailure(error);
    }
    return previous ?? reply.ok;
  }

  /** TTL (unit 1000) or PTTL (1): -2 for a missing key, -1 for one without expiry. */
  private async ttl(key: string, unitMs: number): Promise<Reply> {
    try {
      const found = await this.deps.node.lookup(key);
      if (found.expiresAtMs === undefined) return reply.integer(-1);
      const remaining = Math.max(0, found.expiresAtMs - this.deps.wallClock());
      return reply.integer(unitMs === 1 ? remaining : Math.round(remaining / unitMs));
    } catch (error) {
      if (error instanceof NodeError && error.code === "not_found") return reply.integer(-2);
      return nodeFailure(error);
    }
  }

  /** EXPIRE (unit 1000) or PEXPIRE (1): rewrites the value with the new expiry; a time of 0 or less deletes the key. */
  private async expire(args: readonly Buffer[], unitMs: number): Promise<Reply> {
    if (args.length > 4) throw syntax();
    const key = text(args[1]!);
    const amount = integerArg(args[2]!);
    const { node } = this.deps;
    let current: { value: string; expiresAtMs: number | undefined };
    try {
      current = await node.lookup(key);
    } catch (error) {
      if (error instanceof NodeError && error.code === "not_found") return reply.integer(0);
      return nodeFailure(error);
    }
    if (args.length === 4) {
      const flag = text(args[3]!).toLowerCase();
      const newMs = this.deps.wallClock() + amount * unitMs;
      const skip =
        (flag === "nx" && current.expiresAtMs !== undefined) ||
        (flag === "xx" && current.expiresAtMs === undefined) ||
        (flag === "gt" && (current.expiresAtMs === undefined || newMs <= current.expiresAtMs)) ||
        (flag === "lt" && current.expiresAtMs !== undefined && newMs >= current.expiresAtMs);
      if (!["nx", "xx", "gt", "lt"].includes(flag)) throw new CommandError(`ERR Unsupported option ${flag.slice(0, 16)}`);
      if (skip) return reply.integer(0);
    }
    try {
      if (amount <= 0) await node.del(key);
      else await node.set(key, current.value, amount * unitMs);
    } catch (error) {
      return nodeFailure(error);
    }
    return reply.integer(1);
  }

  /** SCAN cursor [MATCH pattern] [COUNT n] [TYPE string]: the cluster-wide scan, its cursor a ring position. */
  private async scan(args: readonly Buffer[]): Promise<Reply> {
    const cursorText = text(args[1]!);
    if (!/^\d{1,20}$/.test(cursorText) || BigInt(cursorText) >= 1n << 64n) throw new CommandError("ERR invalid cursor");
    let pattern: string | undefined;
    let count = SCAN_COUNT_DEFAULT;
    let type: string | undefined;
    for (let i = 2; i < args.length; i += 2) {
      if (i + 1 >= args.length) throw syntax();
      const option = text(args[i]!).toLowerCase();
      if (option === "match") {
        pattern = text(args[i + 1]!);
        if (pattern.length > MATCH_PATTERN_CHARS_MAX) throw new CommandError(`ERR a MATCH pattern holds at most ${MATCH_PATTERN_CHARS_MAX} characters`);
      } else if (option === "count") {
        count = integerArg(args[i + 1]!);
        if (count < 1) throw syntax();
      } else if (option === "type") type = text(args[i + 1]!).toLowerCase();
      else throw syntax();
    }
    // Every LimeDB value is a string.
    if (type !== undefined && type !== "string") return reply.array([reply.bulk("0"), reply.array([])]);
    const matcher = pattern === undefined ? undefined : globMatcher(pattern);
    const page = await this.deps.scan.pageFromPosition(BigInt(cursorText), Math.min(count, SCAN_COUNT_MAX), pattern === undefined ? "" : literalPrefix(pattern));
    const keys = page.entries.map((entry) => entry.key).filter((key) => matcher === undefined || matcher(key));
    return reply.array([reply.bulk(page.next.toString()), reply.array(keys.map((key) => reply.bulk(key)))]);
  }

  private info(args: readonly Buffer[]): Reply {
    const wanted = args.length > 1 ? text(args[1]!).toLowerCase() : "default";
    const sections: Record<string, Record<string, string | number>> = {
      server: { redis_version: REDIS_COMPATIBLE_VERSION, redis_mode: "standalone", limedb_node: this.deps.node.nodeUrl },
      persistence: { loading: 0 },
      ...this.deps.info(),
    };
    const names = wanted === "default" || wanted === "all" || wanted === "everything" ? Object.keys(sections) : [wanted];
    const lines: string[] = [];
    for (const name of names) {
      const section = sections[name];
      if (section === undefined) continue;
      lines.push(`# ${name[0]!.toUpperCase()}${name.slice(1)}`);
      for (const [field, value] of Object.entries(section)) lines.push(`${field}:${value}`);
      lines.push("");
    }
    return reply.bulk(lines.join("\r\n"));
  }
}
