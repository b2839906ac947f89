// The page's shell: which node it talks to (checked against the serving node's members), refresh, tabs and views.
/** @jsxImportSource preact */
import { useEffect, useRef, useState } from "preact/hooks";
import { clientFor, type NodeRef } from "./nodes.ts";
import type { ClusterState } from "./api-types.ts";
import { readingsOf, readSnapshot, type Snapshot } from "./cluster-snapshot.ts";
import { LiveHistory } from "./live-figures.ts";
import { ExplorerView } from "./explorer-view.tsx";
import { shortUrl } from "./format.ts";
import { refFor, resolveMember } from "./members.ts";
import { ALL, NodeSwitcher } from "./node-switcher.tsx";
import { OverviewView } from "./overview-view.tsx";
import { loadRefresh, type RefreshSettings, saveRefresh } from "./preferences.ts";
import { QueryView } from "./query-view.tsx";
import { RefreshControl } from "./refresh-control.tsx";
import { SeedView } from "./seed-view.tsx";
import { ErrorNote } from "./ui.tsx";
import { usePolling } from "./use-polling.ts";

const VIEWS = [
  { id: "overview", label: "Overview" },
  { id: "explorer", label: "Explorer" },
  { id: "query", label: "Query" },
  { id: "seed", label: "Seed" },
] as const;
type View = (typeof VIEWS)[number]["id"];

/** The node serving the page, reached by relative URLs until its state names it. */
const SERVING: NodeRef = { url: location.origin, base: "" };

function viewFromHash(): View {
  const id = location.hash.replace(/^#\/?/, "");
  return VIEWS.find((v) => v.id === id)?.id ?? "overview";
}

/** The user's choice as a node to read from: a member, or the serving node when the choice is "all" or not a member. */
function targetOf(choice: string | undefined, home: ClusterState): { node: NodeRef; all: boolean; problem?: string } {
  const serving = refFor(home.nodeUrl, home);
  if (choice === undefined || choice === home.nodeUrl) return { node: serving, all: false };
  if (choice === ALL) return { node: serving, all: true };
  const resolved = resolveMember(choice, home);
  return resolved.ok ? { node: resolved.node, all: false } : { node: serving, all: false, problem: resolved.reason };
}

/** Keeps the chosen node in the address (?node=…), so a reload or a shared link opens the same view. */
function rememberChoice(choice: string | undefined): void {
  const url = new URL(location.href);
  if (choice === undefined) url.searchParams.delete("node");
  else url.searchParams.set("node", choice === ALL ? "all" : choice);
  history.replaceState(null, "", url);
}

function initialChoice(): string | undefined {
  const asked = new URLSearchParams(location.search).get("node");
  if (asked === null || asked === "") return undefined;
  return asked === "all" ? ALL : asked;
}

export function App() {
  const [view, setView] = useState<View>(viewFromHash);
  const [refresh, setRefresh] = useState<RefreshSettings>(loadRefresh);
  const [home, setHome] = useState<ClusterState>();
  const [homeError, setHomeError] = useState<unknown>();
  const [choice, setChoice] = useState<string | undefined>(initialChoice);
  const [snapshot, setSnapshot] = useState<Snapshot>();
  const [updatedMs, setUpdatedMs] = useState<number>();
  const [busy, setBusy] = useState(false);
  const [dataVersion, setDataVersion] = useState(0);
  const [blocked, setBlocked] = useState<readonly string[]>([]);
  // Kept across refreshes and choices of node: each member's figures over the last minutes.
  const live = useRef(new LiveHistory());

  useEffect(() => {
    const onHash = () => setView(viewFromHash());
    window.addEventListener("hashchange", onHash);
    // The page may reach only the members known when it was served (its Content-Security-Policy); say so when a newer one is blocked.
    const onViolation = (event: SecurityPolicyViolationEvent) => {
      if (event.effectiveDirective !== "connect-src") return;
      const origin = URL.canParse(event.blockedURI) ? new URL(event.blockedURI).origin : event.blockedURI;
      setBlocked((old) => (old.includes(origin) ? old : [...old, origin]));
    };
    document.addEventListener("securitypolicyviolation", onViolation);
    return () => {
      window.removeEventListener("hashchange", onHash);
      document.removeEventListener("securitypolicyviolation", onViolation);
    };
  }, []);

  const refreshNow = usePolling(
    async (isCurrent) => {
      setBusy(true);
      try {
        const state = await clientFor(SERVING).state();
        if (!isCurrent()) return;
        setHome(state);
        setHomeError(undefined);
        const next = await readSnapshot(state, targetOf(choice, state).node);
        if (!isCurrent()) return;
        live.current.record(next.atMs, readingsOf(next));
        setSnapshot(next);
        setUpdatedMs(next.atMs);
      } catch (error) {
        if (isCurrent()) setHomeError(error);
      } finally {
        if (isCurrent()) setBusy(false);
      }
    },
    refresh.paused ? null : refresh.intervalMs,
    [choice],
  );

  const changeRefresh = (settings: RefreshSettings) => {
    setRefresh(settings);
    saveRefresh(settings);
  };
  const choose = (next: string | undefined) => {
    setChoice(next);
    rememberChoice(next);
  };
  const changed = () => setDataVersion((n) => n + 1);

  const target = home === undefined ? undefined : targetOf(choice, home);
  const note = target?.all === true ? "All nodes is selected; single requests go to the serving node" : undefined;
  const version = snapshot === undefined || home === undefined ? undefined : snapshot.health.get(home.nodeUrl);

  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="#overview">
          <span class="logo" aria-hidden="true" />
          LimeDB <span class="muted">dashboard</span>
        </a>
        {home === undefined ? null : <NodeSwitcher home={home} choice={target?.all === true ? ALL : (target?.node.url ?? home.nodeUrl)} onChoose={choose} />}
        <RefreshControl settings={refresh} busy={busy} updatedMs={updatedMs} onChange={changeRefresh} onRefresh={refreshNow} />
      </header>
      <nav class="tabs" aria-label="Views">
        {VIEWS.map((v) => (
          <a href={`#${v.id}`} class={view === v.id ? "tab active" : "tab"} aria-current={view === v.id ? "page" : undefined}>
            {v.label}
          </a>
        ))}
      </nav>
      <main>
        {homeError === undefined ? null : <ErrorNote title={`Cannot read the cluster from ${shortUrl(home?.nodeUrl ?? SERVING.url)}`} error={homeError} />}
        {target?.problem === undefined ? null : (
          <div class="error-note" role="alert">
            {target.problem}. Showing {shortUrl(target.node.url)} instead.
          </div>
        )}
        {blocked.map((origin) => (
          <div class="warning" role="alert">
            The browser blocked a request to {origin}: it joined the cluster after this page was loaded. Reload the page to reach it.
          </div>
        ))}
        {home === undefined || target === undefined ? (
          homeError === undefined ? <p class="muted">Connecting…</p> : null
        ) : view === "overview" ? (
          <OverviewView snapshot={snapshot} live={live.current.series()} />
        ) : view === "explorer" ? (
          <ExplorerView home={home} target={target.node} all={target.all} dataVersion={dataVersion} onChanged={changed} />
        ) : null}
        {/* Kept mounted while hidden: answers and a running seed survive a look at another view. */}
        {home === undefined || target === undefined ? null : (
          <>
            <div hidden={view !== "query"}>
              <QueryView target={target.node} note={note} onChanged={changed} />
            </div>
            <div hidden={view !== "seed"}>
              <SeedView target={target.node} note={note} onDone={changed} />
            </div>
          </>
        )}
      </main>
      <footer class="foot muted small">
        Served by {home === undefined ? SERVING.url : shortUrl(home.nodeUrl)}
        {version?.ok === true ? ` · LimeDB ${version.value.version}` : ""} · talks only to members of this cluster
      </footer>
    </div>
  );
}
