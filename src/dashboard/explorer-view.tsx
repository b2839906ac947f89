// The data explorer: one node's keys, or every member's merged with who holds each; filter, pages, open a key.
/** @jsxImportSource preact */
import { useEffect, useState } from "preact/hooks";
import { clientFor, type NodeRef } from "./api-client.ts";
import type { ClusterState } from "./api-types.ts";
import { formatCount, shortUrl } from "./format.ts";
import { KeyPanel } from "./key-panel.tsx";
import { KeyTable } from "./key-table.tsx";
import { filterRows, type KeyRow, type Listing, type ListingFailure, mergeListings, pageOf, SCAN_KEYS_MAX, scanNodes } from "./key-listing.ts";
import { refFor } from "./members.ts";
import { ErrorNote } from "./ui.tsx";

const PAGE_SIZES = [10, 20, 50, 100] as const;

interface Loaded {
  readonly rows: readonly KeyRow[];
  readonly listings: readonly Listing[];
  readonly failures: readonly ListingFailure[];
}

export interface ExplorerProps {
  readonly home: ClusterState;
  /** The node whose keys are listed, and through which keys are read, written and deleted. */
  readonly target: NodeRef;
  /** All nodes: every live member's keys, merged. */
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

  // Dead members are skipped rather than waited for; they are named below the listing.
  const live = all ? home.members.filter((m) => m.state !== "dead").map((m) => m.url) : [target.url];
  const skipped = all ? home.members.filter((m) => m.state === "dead").map((m) => m.url) : [];
  const sources: NodeRef[] = all ? live.map((url) => refFor(url, home)) : [target];
  const memberUrls = home.members.map((m) => m.url);

  useEffect(() => {
    let current = true;
    setLoading(true);
    void scanNodes(sources.map(clientFor)).then(({ listings, failures }) => {
      if (!current) return;
      setLoaded({ rows: mergeListings(listings), listings, failures });
      setLoading(false);
    });
    return () => {
      current = false;
    };
  }, [sources.map((s) => s.url).join(" "), dataVersion, reload]);

  const rows = filterRows(loaded?.rows ?? [], filter);
  const shown = pageOf(rows, page, pageSize);
  const openRow = loaded?.rows.find((row) => row.key === openKey);
  const cut = (loaded?.listings ?? []).filter((l) => l.total > l.entries.length);

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
            : `${formatCount(loaded.rows.length)} keys ${all ? `on ${live.length} nodes (merged)` : `on ${shortUrl(target.url)}`}${filter.trim() === "" ? "" : ` · ${formatCount(rows.length)} match`}`}
        </p>
        {notice === undefined ? null : (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        {(loaded?.failures ?? []).map((failure) => (
          <ErrorNote title={`Keys of ${shortUrl(failure.nodeUrl)}`} error={failure.error} />
        ))}
        {cut.map((l) => (
          <p class="warning">
            {shortUrl(l.nodeUrl)} has {formatCount(l.total)} keys; the first {formatCount(SCAN_KEYS_MAX)} are listed and filtered here.
          </p>
        ))}
        {skipped.length === 0 ? null : <p class="muted small">Skipped, marked dead by gossip: {skipped.map(shortUrl).join(", ")}</p>}

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
          via={all ? refFor(home.nodeUrl, home) : target}
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
