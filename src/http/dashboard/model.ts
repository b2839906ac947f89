// Schemas of the dashboard routes: asset names are short and plain, checked before the fixed list is consulted.
import { t } from "elysia";

/** Longer than any name the build gives (`chunk-<16 hex>.js`), far shorter than anything worth reading. */
export const ASSET_NAME_CHARS_MAX = 100;

export const assetParams = t.Object({
  file: t.String({ minLength: 1, maxLength: ASSET_NAME_CHARS_MAX, pattern: "^[A-Za-z0-9_.-]+$", error: "asset names are letters, digits, '.', '_' and '-'" }),
});
