// The `limedb` command line: commander parses it, the commands run it, and every failure becomes one line and an exit code.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import packageJson from "../../package.json" with { type: "json" };
import { ClientError, nodeClient, parseNodeUrl, REQUEST_TIMEOUT_MS_DEFAULT } from "../client/node-client.ts";
import {
  delCommand,
  EXIT,
  exitCodeOf,
  getCommand,
  gossipCommand,
  keysCommand,
  removeCommand,
  ringCommand,
  setCommand,
  statusCommand,
  UsageError,
  type Io,
  type Output,
} from "./commands.ts";
import { backupCommand, restoreCommand } from "./backup.ts";

export const NODE_URL_DEFAULT = "http://localhost:8484";
/** Longest --timeout-ms accepted: ten minutes; a node that needs longer is not answering. */
const TIMEOUT_MS_MAX = 600_000;
/** Largest --page accepted here; the node checks its own bound again. */
const PAGE_MAX = 1_000_000;

interface GlobalOptions {
  node: string;
  json?: boolean;
  timeoutMs: number;
}

/** Starts the full-screen view; loaded only when asked for, so plain commands never load React and ink. */
export type TuiRunner = (seeds: readonly string[], timeoutMs: number) => Promise<void>;

function integer(name: string, min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    }
    return value;
  };
}

function nodeUrlArg(text: string): string {
  try {
    return parseNodeUrl(text);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

function seedsArg(text: string): string[] {
  const seeds = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (seeds.length === 0) throw new InvalidArgumentError("--seed needs at least one node URL");
  return [...new Set(seeds.map(nodeUrlArg))];
}

export function buildProgram(io: Io, runTui: TuiRunner): Command {
  const program = new Command("limedb")
    .description("The LimeDB client: read and write keys, and look at a cluster, over a node's HTTP API.")
    .version(packageJson.version, "-V, --version")
    .addOption(new Option("--node <url>", "node to talk to").env("LIMEDB_NODE").default(NODE_URL_DEFAULT).argParser(nodeUrlArg))
    .option("--json", "machine-readable JSON output")
    .option("--timeout-ms <ms>", "bound on every HTTP call", integer("--timeout-ms", 1, TIMEOUT_MS_MAX), REQUEST_TIMEOUT_MS_DEFAULT)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      // Commander's "error: ..." becomes the client's one-line form.
      outputError: (text, write) => write(`limedb: ${text.replace(/^error: /, "")}`),
    })
    .addHelpText(
      "after",
      "\nExit codes: 0 success, 1 key not found, 2 usage error (or a request the node refused), 3 cluster unreachable or unable to serve.",
    );

  // Global options may come before or after the command; each command reads them with optsWithGlobals().
  const setup = (command: Command) => {
    const global = command.optsWithGlobals<GlobalOptions>();
    const output: Output = { io, json: global.json === true };
    // --node and LIMEDB_NODE both pass nodeUrlArg, so the URL is already checked and normalised.
    return { client: nodeClient(global.node, global.timeoutMs), output, global };
  };

  program
    .command("get")
    .description("print the value of KEY")
    .argument("<key>")
    .action((key: string, _options: unknown, command: Command) => {
      const { client, output } = setup(command);
      return getCommand(client, key, output);
    });

  program
    .command("set")
    .description("store VALUE under KEY; without VALUE, the value is read from stdin")
    .argument("<key>")
    .argument("[value]")
    .option("--ttl-ms <ms>", "expire the key after this many milliseconds", integer("--ttl-ms", 1, Number.MAX_SAFE_INTEGER))
    .action((key: string, value: string | undefined, options: { ttlMs?: number }, command: Command) => {
      const { client, output } = setup(command);
      return setCommand(client, key, value, options.ttlMs, output);
    });

  program
    .command("del")
    .description("delete KEY (exit code 1 when it did not exist)")
    .argument("<key>")
    .action((key: string, _options: unknown, command: Command) => {
      const { client, output } = setup(command);
      return delCommand(client, key, output);
    });

  program
    .command("keys")
    .description("list the node's keys, sorted, one page at a time")
    .addOption(new Option("--page <n>", "page to show (default 1)").argParser(integer("--page", 1, PAGE_MAX)).conflicts("all"))
    .addOption(new Option("--page-size <n>", "keys per page, 1 to 100 (default 20)").argParser(integer("--page-size", 1, 100)).conflicts("all"))
    .option("--all", "every key of the whole cluster (the cluster-wide scan), sorted")
    .action((options: { page?: number; pageSize?: number; all?: boolean }, command: Command) => {
      const { client, output } = setup(command);
      return keysCommand(client, { page: options.page, pageSize: options.pageSize, all: options.all === true }, output);
    });

  for (const [name, description, run] of [
    ["status", "the node's view of the cluster: members, replication, storage", statusCommand],
    ["ring", "each node's share of the hash ring", ringCommand],
    ["gossip", "gossip status of the node and its peers", gossipCommand],
  ] as const) {
    program
      .command(name)
      .description(description)
      .action((_options: unknown, command: Command) => {
        const { client, output } = setup(command);
        return run(client, output);
      });
  }

  program
    .command("remove")
    .description("remove a dead member from the cluster, so its ranges get new replicas (a dead member keeps them until then)")
    .argument("<member>", "the member's node URL, as `limedb status` lists it", nodeUrlArg)
    .addOption(new Option("--secret <secret>", "the cluster's CLUSTER_SECRET (the route is an admin one)").env("CLUSTER_SECRET").default(""))
    .option("--force", "remove even when the node asked sees no majority (a cluster of two, say): you know the member is gone for good")
    .action((member: string, options: { secret: string; force?: boolean }, command: Command) => {
      const { client, output } = setup(command);
      return removeCommand(client, member, options.secret, options.force === true, output);
    });

  program
    .command("backup")
    .description("write every live key of the cluster, with its version and expiry, to a file (JSON lines), by the cluster-wide scan")
    .requiredOption("--out <file>", "the backup file to write (written whole under a temporary name first)")
    .action((options: { out: string }, command: Command) => {
      const { client, output } = setup(command);
      return backupCommand(client, options.out, output);
    });

  program
    .command("restore")
    .description("write a backup's records through the cluster under their own versions: keys written or deleted since keep their newer state")
    .argument("<file>", "a file `limedb backup` wrote")
    .addOption(new Option("--secret <secret>", "the cluster's CLUSTER_SECRET (the route is an admin one)").env("CLUSTER_SECRET").default(""))
    .action(async (file: string, options: { secret: string }, command: Command) => {
      const { client, output } = setup(command);
      const summary = await restoreCommand(client, file, options.secret, output);
      if (summary.failed > 0) throw new ClientError("unavailable", `${summary.failed} of ${summary.records} records could not be written; run the restore again (records already there are kept)`);
    });

  program
    .command("tui")
    .description("full-screen view of a cluster, refreshed every 2 s")
    .option("--seed <urls>", "comma-separated node URLs to start from (default: --node)", seedsArg)
    .action(async (options: { seed?: string[] }, command: Command) => {
      const { global } = setup(command);
      if (!io.stdoutIsTty || !io.stdinIsTty) throw new UsageError("tui needs a terminal on stdin and stdout");
      await runTui(options.seed ?? [global.node], global.timeoutMs);
    });

  return program;
}

/** Runs the command line and returns the exit code; reports every expected failure as one line on stderr. */
export async function runCli(argv: readonly string[], io: Io, runTui: TuiRunner): Promise<number> {
  const program = buildProgram(io, runTui);
  if (argv.length === 0) {
    io.err(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with exit code 0; every parse error was already printed by outputError.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof ClientError || error instanceof UsageError) {
      io.err(`limedb: ${error.message}\n`);
      return exitCodeOf(error);
    }
    throw error;
  }
}
