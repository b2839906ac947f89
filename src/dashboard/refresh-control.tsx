// The refresh control: interval, pause and resume, refresh now, and when the overview last changed.
/** @jsxImportSource preact */
import { formatTime } from "./format.ts";
import { REFRESH_CHOICES_MS, type RefreshSettings } from "./preferences.ts";

export function RefreshControl(props: { settings: RefreshSettings; busy: boolean; updatedMs: number | undefined; onChange: (s: RefreshSettings) => void; onRefresh: () => void }) {
  const { settings } = props;
  return (
    <div class="refresh">
      <select aria-label="Refresh interval" value={String(settings.intervalMs)} onChange={(event) => props.onChange({ ...settings, intervalMs: Number(event.currentTarget.value) })}>
        {REFRESH_CHOICES_MS.map((ms) => (
          <option value={String(ms)}>every {ms / 1000} s</option>
        ))}
      </select>
      <button class="btn" type="button" aria-pressed={settings.paused} onClick={() => props.onChange({ ...settings, paused: !settings.paused })}>
        {settings.paused ? "Resume" : "Pause"}
      </button>
      <button class="btn" type="button" onClick={props.onRefresh} aria-label="Refresh now" title="Refresh now">
        ↻
      </button>
      <span class="muted small updated" data-busy={props.busy ? "true" : "false"}>
        {props.updatedMs === undefined ? "" : `${settings.paused ? "paused · " : ""}${formatTime(props.updatedMs)}`}
      </span>
    </div>
  );
}
