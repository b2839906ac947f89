// Reading the whole /api/v1/keys listing when pages can come back short: a page is capped in bytes as well as
// entries, so "page N of pageSize P" no longer means "the entries after the first (N-1)·P a client has read".

/**
 * The page and pageSize whose first entry is the one at `offset` (0-based) in the listing, with a pageSize
 * of at most `pageSizeMax`: the largest such divisor of the offset. Pure arithmetic on the seed's paging,
 * so every node, old or new, answers it the same way.
 */
export function pageStartingAt(offset: number, pageSizeMax: number): { page: number; pageSize: number } {
  if (offset === 0) return { page: 1, pageSize: pageSizeMax };
  for (let size = Math.min(pageSizeMax, offset); size > 1; size--) {
    if (offset % size === 0) return { page: offset / size + 1, pageSize: size };
  }
  return { page: offset + 1, pageSize: 1 };
}
