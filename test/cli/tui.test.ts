// `limedb tui` in a real terminal (tmux) against a real three-node cluster: discovery, ring, gossip, explorer, a node going down, quitting.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { CLUSTER_TEST_TIMEOUT_MS, fetchNode, startCluster, waitForAgreement } from "../support/cluster.ts";
import { Terminal } from "../support/tmux.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");
/** Bound on each wait for the screen; the view refreshes every 2 s, so a healthy run needs a fraction of it. */
const SCREEN_WAIT_MS = 10_000;
const COLUMNS = 140;
const ROWS = 45;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function hostPort(url: string): string {
  return url.replace(/^http:\/\//, "");
}

test(
  "the full-screen view finds all nodes from one seed, shows ring and gossip, sets and gets a key, sees a node die, and quits cleanly",
  async () => {
    await using cluster = await startCluster({ size: 3 });
    const urls = cluster.urls;
    await waitForAgreement(urls, urls, SCREEN_WAIT_MS);
    const [first, second, third] = urls as [string, string, string];
    await using terminal = Terminal.start({ columns: COLUMNS, rows: ROWS, cwd: REPO_ROOT });

    // The shell remembers its terminal settings and compares them after the view quits: raw mode must be undone.
    terminal.run(
      `S=$(stty -g); ${process.execPath} src/cli/limedb.ts tui --seed ${first}; echo "tui-exit=$? tty-restored=$([ "$(stty -g)" = "$S" ] && echo yes || echo no)"`,
    );

    // Only the first node was given: the other two are discovered through its membership and gossip.
    const row = (url: string, state: string) => new RegExp(`${state}\\s+${escape(url)}\\s+${url.split(":").at(-1)}\\s`);
    await terminal.waitFor("all three nodes up in the cluster table", (s) => s.includes("3 nodes known, 3 up") && urls.every((url) => row(url, "up").test(s)), SCREEN_WAIT_MS);
    expect(terminal.display("#{alternate_on}")).toBe("1");
    const screen = await terminal.waitFor(
      "ring bars and the gossip panel of the selected node",
      (s) => s.includes("Ring distribution") && urls.every((url) => new RegExp(`${escape(hostPort(url))}\\s+[█▏▎▍▌▋▊▉·]+\\s+\\d+\\.\\d%\\s+[+-]\\d+\\.\\d%`).test(s)) && s.includes(`Gossip of ${hostPort(first)}`) && s.includes("healthy"),
      SCREEN_WAIT_MS,
    );
    for (const peer of [second, third]) expect(screen).toMatch(new RegExp(`${escape(hostPort(peer))}\\s+active\\s+\\d+`));
    for (const url of urls) expect(screen).toMatch(new RegExp(`${escape(url)}\\s+\\d+\\s+3\\s+2/2\\s+\\d+(\\.\\d)? m?s`));

    // The explorer: Tab into the key field, type, Tab to the value, type, Enter sets.
    const key = "tui:user-42";
    const value = "Ada Lovelace";
    terminal.press("Tab");
    await terminal.waitFor("the key field focused", (s) => s.includes("Enter GET · Tab next field"), SCREEN_WAIT_MS);
    terminal.type(key);
    await terminal.waitFor("the key typed", (s) => s.includes(`Key:   ${key}`), SCREEN_WAIT_MS);
    terminal.press("Tab");
    await terminal.waitFor("the value field focused", (s) => s.includes("Enter SET · Tab next field"), SCREEN_WAIT_MS);
    terminal.type(value);
    await terminal.waitFor("the value typed", (s) => s.includes(`Value: ${value}`), SCREEN_WAIT_MS);
    terminal.press("Enter");
    await terminal.waitFor("the SET answered", (s) => s.includes(`SET "${key}" = "${value}" → OK`), SCREEN_WAIT_MS);
    const stored = await fetchNode(`${third}/api/v1/get/${encodeURIComponent(key)}`);
    expect(((await stored.json()) as { value: string }).value).toBe(value);

    // Back to the nodes, into the key field again, Enter gets.
    terminal.press("Escape");
    await terminal.waitFor("focus back on the nodes", (s) => s.includes("↑/↓ select node"), SCREEN_WAIT_MS);
    terminal.press("Tab");
    await terminal.waitFor("the key field focused again", (s) => s.includes("Enter GET · Tab next field"), SCREEN_WAIT_MS);
    terminal.press("Enter");
    await terminal.waitFor("the GET answered with the value", (s) => s.includes(`GET "${key}" → "${value}" · via http://127.0.0.1:`), SCREEN_WAIT_MS);

    // Arrow keys select another node, and the gossip panel follows.
    terminal.press("Escape");
    await terminal.waitFor("focus back on the nodes", (s) => s.includes("↑/↓ select node"), SCREEN_WAIT_MS);
    terminal.press("Down");
    await terminal.waitFor("the second node selected", (s) => s.includes(`Gossip of ${hostPort(second)}`) && s.includes(`› up     ${second}`), SCREEN_WAIT_MS);

    // A killed node stops answering and shows as down; `r` asks for a refresh at once.
    const victim = cluster.nodes.find((n) => n.url === third);
    if (victim === undefined) throw new Error(`no process for ${third}`);
    await victim.kill9();
    terminal.press("r");
    await terminal.waitFor("the killed node down", (s) => row(third, "down").test(s) && s.includes("3 nodes known, 2 up"), SCREEN_WAIT_MS);

    // q leaves the alternate screen, restores the terminal's settings and ends the process with 0.
    terminal.press("q");
    await terminal.waitFor("the view gone and the shell back", (s) => s.includes("tui-exit=0 tty-restored=yes"), SCREEN_WAIT_MS);
    expect(terminal.display("#{alternate_on} #{cursor_flag} #{pane_current_command}")).toBe("0 1 bash");
  },
  CLUSTER_TEST_TIMEOUT_MS,
);
