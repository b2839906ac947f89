// The node switcher: the serving node's members, "All nodes", and a typed URL accepted only when it is a member.
/** @jsxImportSource preact */
import { useState } from "preact/hooks";
import type { ClusterState } from "./api-types.ts";
import { shortUrl } from "./format.ts";
import { resolveMember } from "./members.ts";

/** The switcher's value for the fan-out view; no URL looks like it. */
export const ALL = "*all";

export function NodeSwitcher({ home, choice, onChoose }: { home: ClusterState; choice: string; onChoose: (choice: string | undefined) => void }) {
  const [typed, setTyped] = useState("");
  const [problem, setProblem] = useState<string>();
  const members = [...home.members].sort((a, b) => (a.url < b.url ? -1 : 1));
  const connect = (event: Event) => {
    event.preventDefault();
    const resolved = resolveMember(typed, home);
    if (!resolved.ok) return setProblem(resolved.reason);
    setProblem(undefined);
    setTyped("");
    onChoose(resolved.node.url === home.nodeUrl ? undefined : resolved.node.url);
  };
  return (
    <div class="switcher">
      <label class="inline">
        Node
        <select aria-label="Node" value={choice} onChange={(event) => onChoose(event.currentTarget.value === home.nodeUrl ? undefined : event.currentTarget.value)}>
          {members.map((m) => (
            <option value={m.url}>
              {shortUrl(m.url)}
              {m.url === home.nodeUrl ? " (serving)" : ""}
              {m.state === "active" ? "" : ` — ${m.state}`}
            </option>
          ))}
          <option value={ALL}>All nodes</option>
        </select>
      </label>
      <details class="connect">
        <summary>URL…</summary>
        <form onSubmit={connect}>
          <input type="url" aria-label="Member URL" placeholder="http://host:port" value={typed} onInput={(event) => setTyped(event.currentTarget.value)} />
          <button class="btn" type="submit">
            Connect
          </button>
          {problem === undefined ? null : (
            <div class="error-note" role="alert">
              {problem}
            </div>
          )}
        </form>
      </details>
    </div>
  );
}
