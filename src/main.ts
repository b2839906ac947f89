// The process: reads the settings, starts the node (assemble.ts), and stops it on a signal.
import { parseConfig } from "./config/parse.ts";
import { assembleNode, StartError, type AssembledNode } from "./assemble.ts";

/** Exit code for a bad setting (SPEC §3). */
const EXIT_BAD_CONFIG = 2;

const parsed = parseConfig(Bun.argv.slice(2), process.env);
if (!parsed.ok) {
  if ("help" in parsed) {
    console.log(parsed.help);
    process.exit(0);
  }
  console.error(`limedb: ${parsed.error.message}`);
  process.exit(EXIT_BAD_CONFIG);
}
let node: AssembledNode;
try {
  node = await assembleNode(parsed.config, { onStopped: () => process.exit(0) });
} catch (error) {
  if (!(error instanceof StartError)) throw error;
  console.error(`limedb: ${error.message}`);
  process.exit(error.exitCode);
}
// SIGTERM (docker stop, the cluster script) leaves gracefully; Ctrl-C stops at once, data stays on disk.
process.on("SIGINT", () => void node.stop("SIGINT", false));
process.on("SIGTERM", () => void node.stop("SIGTERM", true));
