// The data explorer: one node's own keys, or the whole cluster's by its cluster-wide scan; filter, pages, open a key.
/** @jsxImportSource preact */
import { useEffect, useState } from "preact/hooks";
import type { ClusterState } from "./api-types.ts";
import { formatCount, shortUrl } from "./format.ts";
import { KeyPanel } from "./key-panel.tsx";
import { KeyTable } from "./key-table.tsx";
import { failureOf, filterRows, type KeyRow, type ListingFailure, pageOf, rowsOf, SCAN_KEYS_MAX, scanCluster, scanNode } from "./key-listing.ts";
import { refFor } from "./members.ts";
import { clientFor, type NodeRef } from "./nodes.ts";
import { ErrorNote } from "./ui.tsx";

const PAGE_SIZES = [10, 20, 50, 100] as const;

interface Loaded {
  readonly rows: readonly KeyRow[];
  /** Keys there are beyond those read: the node's count, or unknown (null) when the cluster's scan stopped at its bound. */
  readonly cut?: { readonly total: number | null };
  readonly failure?: ListingFailure;
}

/** The rows to show: the cluster's keys through the serving node, or the chosen node's own. */
async function load(source: NodeRef, all: boolean): Promise<Loaded> {
  const client = clientFor(source);
  try {
    if (all) {
      const listing = await scanCluster(client);
      return { rows: listing.rows, ...(listing.cut ? { cut: { total: null } } : {}) };
    }
    const listing = await scanNode(client);
    return { rows: rowsOf(listing), ...(listing.total > listing.entries.length ? { cut: { total: listing.total } } : {}) };
  } catch (error) {
    return { rows: [], failure: failureOf(source.url, error) };
  }
}

export interface ExplorerProps {
  readonly home: ClusterState;
  /** The node whose keys are listed, and through which keys are read, written and deleted. */
  readonly target: NodeRef;
  /** All nodes: the cluster's keys, each once, by the cluster-wide scan through the serving node. */
  readonly all: boolean;
  /** Bumped whenever the page changed data, so the listing reads again. */
  readonly dataVersion: number;
  readonly onChanged: () => void;
}

export function ExplorerView({ home, target, all, dataVersion, onChanged }: ExplorerProps) {
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState<number>(20);
  const [reload, setReload] = useState(0);
  const [loaded, setLoaded] = useState<Loaded>();
  const [loading, setLoading] = useState(true);
  const [openKey, setOpenKey] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const source = all ? refFor(home.nodeUrl, home) : target;
  const memberUrls = home.members.map((m) => m.url);

  useEffect(() => {
    let current = true;
    setLoading(true);
    void load(source, all).then((answer) => {
      if (!current) return;
      setLoaded(answer);
      setLoading(false);
    });
    return () => {
      current = false;
    };
  }, [source.url, all, dataVersion, reload]);

  const rows = filterRows(loaded?.rows ?? [], filter);
  const shown = pageOf(rows, page, pageSize);
  const openRow = loaded?.rows.find((row) => row.key === openKey);
  const cut = loaded?.cut;

  return (
    <div class="explorer">
      <section class="card">
        <div class="toolbar">
          <input
            class="grow"
            type="search"
            placeholder="Filter keys and values…"
            aria-label="Filter"
            value={filter}
            onInput={(event) => {
              setFilter(event.currentTarget.value);
              setPage(1);
            }}
          />
          <label class="inline">
            Per page
            <select value={String(pageSize)} onChange={(event) => (setPageSize(Number(event.currentTarget.value)), setPage(1))} aria-label="Keys per page">
              {PAGE_SIZES.map((n) => (
                <option value={String(n)}>{n}</option>
              ))}
            </select>
          </label>
          <button class="btn" type="button" onClick={() => setReload((n) => n + 1)} disabled={loading}>
            {loading ? "Loading…" : "Reload"}
          </button>
        </div>
        <p class="muted summary" data-testid="explorer-summary" data-total={loaded?.rows.length ?? 0} data-loading={loading ? "true" : "false"}>
          {loaded === undefined
            ? "Reading keys…"
            : `${formatCount(loaded.rows.length)} keys ${all ? "in the cluster (each once, by its scan)" : `on ${shortUrl(target.url)}`}${filter.trim() === "" ? "" : ` · ${formatCount(rows.length)} match`}`}
        </p>
        {notice === undefined ? null : (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        {loaded?.failure === undefined ? null : <ErrorNote title={all ? "Scan of the cluster" : `Keys of ${shortUrl(loaded.failure.nodeUrl)}`} error={loaded.failure.error} />}
        {cut === undefined ? null : (
          <p class="warning">
            {cut.total === null ? "The cluster holds more keys" : `${shortUrl(target.url)} has ${formatCount(cut.total)} keys`}; the first {formatCount(SCAN_KEYS_MAX)} are listed and filtered here.
          </p>
        )}

        <KeyTable rows={shown.items} all={all} memberUrls={memberUrls} onOpen={setOpenKey} />
        {loaded !== undefined && shown.items.length === 0 ? <p class="empty muted">{filter.trim() === "" ? "No keys yet. Seed some from the Seed tab." : "No key matches the filter."}</p> : null}

        <nav class="pager" aria-label="Pages">
          <button class="btn" type="button" disabled={shown.page <= 1} onClick={() => setPage(shown.page - 1)}>
            ← Prev
          </button>
          <span data-testid="page-label">
            Page {shown.page} of {shown.totalPages}
          </span>
          <button class="btn" type="button" disabled={shown.page >= shown.totalPages} onClick={() => setPage(shown.page + 1)}>
            Next →
          </button>
        </nav>
      </section>

      {openKey === undefined ? null : (
        <KeyPanel
          keyName={openKey}
          row={openRow}
          via={source}
          memberUrls={memberUrls}
          onClose={() => setOpenKey(undefined)}
          onChanged={onChanged}
          onDeleted={(existed) => {
            setOpenKey(undefined);
            setNotice(existed ? `Deleted ${openKey}.` : `${openKey} was already gone.`);
            onChanged();
          }}
        />
      )}
    </div>
  );
}
