// The explorer's table of keys: each key (opens it), a one-line preview of its value, its size and, for the
// whole cluster, when and by which node its newest version was written.
/** @jsxImportSource preact */
import { colorOf, compactUrl, formatBytes, preview } from "./format.ts";
import type { KeyRow } from "./key-listing.ts";
import { NodeChip } from "./ui.tsx";

const VALUE_PREVIEW_CHARS = 80;

export function KeyTable({ rows, all, memberUrls, onOpen }: { rows: readonly KeyRow[]; all: boolean; memberUrls: readonly string[]; onOpen: (key: string) => void }) {
  return (
    <div class="table-wrap">
      <table class="data stack keys">
        <thead>
          <tr>
            <th>Key</th>
            <th>Value</th>
            <th class="num">Size</th>
            {all ? <th>Written</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key} data-key={row.key} data-written-by={row.written?.node}>
              <td data-label="Key">
                <button class="link key" type="button" onClick={() => onOpen(row.key)}>
                  {row.key}
                </button>
              </td>
              <td data-label="Value" class="value mono">
                {preview(row.value, VALUE_PREVIEW_CHARS)}
              </td>
              <td data-label="Size" class="num">
                {formatBytes(row.size)}
              </td>
              {all && row.written !== undefined ? (
                <td data-label="Written" class="holders">
                  <span class="muted small" title={new Date(row.written.wallMs).toISOString()}>
                    {new Date(row.written.wallMs).toLocaleTimeString()}
                  </span>{" "}
                  <NodeChip url={row.written.node} color={colorOf(row.written.node, memberUrls)} label={compactUrl(row.written.node, memberUrls)} />
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
