// The explorer's table of keys: each key (opens it), a one-line preview of its value, its size and, for all nodes, its holders.
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
            {all ? <th>Held by</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key} data-key={row.key} data-holders={row.holders.length}>
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
              {all ? (
                <td data-label="Held by" class="holders">
                  {row.holders.map((url) => (
                    <NodeChip url={url} color={colorOf(url, memberUrls)} label={compactUrl(url, memberUrls)} />
                  ))}
                  {row.divergent ? <span class="tag warn" title="The copies hold different values: a write is still reaching every replica">differs</span> : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
