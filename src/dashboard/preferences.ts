// What the page remembers between visits: the refresh interval and whether refreshing is paused.

export const REFRESH_CHOICES_MS = [1_000, 2_000, 5_000, 10_000, 30_000] as const;
export const REFRESH_DEFAULT_MS = 2_000;

export interface RefreshSettings {
  readonly intervalMs: number;
  readonly paused: boolean;
}

const STORAGE_KEY = "limedb.dashboard.refresh";

/** Reads what was saved, falling back to the defaults when nothing valid was (or storage is unavailable). */
export function loadRefresh(): RefreshSettings {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null") as Partial<RefreshSettings> | null;
    const intervalMs = REFRESH_CHOICES_MS.find((ms) => ms === saved?.intervalMs) ?? REFRESH_DEFAULT_MS;
    return { intervalMs, paused: saved?.paused === true };
  } catch {
    return { intervalMs: REFRESH_DEFAULT_MS, paused: false };
  }
}

export function saveRefresh(settings: RefreshSettings): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // Private windows may refuse storage; the setting then lasts as long as the page.
  }
}
