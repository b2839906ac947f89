// The overview's live charts: requests/s, p50/p99 latency and keys per member over the last minutes (Chart.js
// lines, one colour per member), and a table of the latest figures beside them.
/** @jsxImportSource preact */
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";
import { useEffect, useRef } from "preact/hooks";
import { colorOf, formatCount, shortUrl } from "./format.ts";
import { LIVE_WINDOW_MS, type LivePoint } from "./live-figures.ts";
import { NodeChip } from "./ui.tsx";

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

/** The shortest time axis, in seconds: a page just opened does not stretch its first few points across it. */
const LIVE_AXIS_S_MIN = 60;

interface Line {
  readonly label: string;
  readonly color: string;
  readonly dashed: boolean;
  /** x: seconds before now (≤ 0); y: null where the figure is not known (drawn as a gap). */
  readonly points: readonly { readonly x: number; readonly y: number | null }[];
}

function LineChart({ title, unit, lines, testId }: { title: string; unit: string; lines: readonly Line[]; testId: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<"line", { x: number; y: number }[], string> | undefined>(undefined);

  useEffect(() => {
    if (canvas.current === null) return;
    chart.current = new Chart(canvas.current, {
      type: "line",
      data: { datasets: [] },
      options: {
        // Redrawn every refresh: an animation each time would never settle.
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        spanGaps: false,
        elements: { point: { radius: 1.5 }, line: { borderWidth: 2, tension: 0 } },
        interaction: { mode: "nearest", intersect: false },
        scales: {
          x: { type: "linear", min: -LIVE_WINDOW_MS / 1000, max: 0, ticks: { callback: (value) => `${Number(value)} s` } },
          y: { type: "linear", beginAtZero: true, title: { display: true, text: unit } },
        },
        plugins: { legend: { labels: { boxWidth: 12 } } },
      },
    });
    return () => chart.current?.destroy();
  }, []);

  useEffect(() => {
    const current = chart.current;
    if (current === undefined) return;
    current.data.datasets = lines.map((line) => ({
      label: line.label,
      // Unparsed data takes NaN, not null, as "no value" (a gap); null would be drawn as 0.
      data: line.points.map((p) => ({ x: p.x, y: p.y ?? Number.NaN })),
      borderColor: line.color,
      backgroundColor: line.color,
      borderDash: line.dashed ? [6, 4] : [],
    }));
    // The axis reaches back as far as the points do (at least a minute, at most the window).
    // Points are oldest first: each line's first is its oldest (no spread of every point into one call).
    let oldest = 0;
    for (const line of lines) oldest = Math.min(oldest, line.points[0]?.x ?? 0);
    const x = current.options.scales?.x;
    if (x !== undefined) x.min = Math.max(-LIVE_WINDOW_MS / 1000, Math.min(-LIVE_AXIS_S_MIN, Math.floor(oldest)));
    current.update("none");
  });

  const known = lines.reduce((n, line) => n + line.points.filter((p) => p.y !== null).length, 0);
  return (
    <figure class="live-chart" data-testid={testId} data-points={known}>
      <figcaption>{title}</figcaption>
      <div class="chart-box">
        <canvas ref={canvas} role="img" aria-label={`${title}, last ${LIVE_WINDOW_MS / 60_000} minutes, per node`} />
      </div>
    </figure>
  );
}

const shown = (value: number | undefined, digits: number) => (value === undefined ? "—" : value.toFixed(digits));

export function LiveCharts({ series, memberUrls, nowMs }: { series: ReadonlyMap<string, readonly LivePoint[]>; memberUrls: readonly string[]; nowMs: number }) {
  const nodes = [...series.keys()].sort();
  const lineOf = (url: string, pick: (p: LivePoint) => number | null, suffix = "", dashed = false): Line => ({
    label: `${shortUrl(url)}${suffix}`,
    color: colorOf(url, memberUrls),
    dashed,
    points: (series.get(url) ?? []).map((p) => ({ x: (p.atMs - nowMs) / 1000, y: pick(p) })),
  });
  return (
    <div class="live">
      <div class="grid-3">
        <LineChart title="Requests per second" unit="requests/s" testId="chart-requests" lines={nodes.map((url) => lineOf(url, (p) => p.requestsPerS))} />
        <LineChart
          title="Latency p50 (solid) and p99 (dashed)"
          unit="ms"
          testId="chart-latency"
          lines={nodes.flatMap((url) => [lineOf(url, (p) => p.p50Ms, " p50"), lineOf(url, (p) => p.p99Ms, " p99", true)])}
        />
        <LineChart title="Keys" unit="keys" testId="chart-keys" lines={nodes.map((url) => lineOf(url, (p) => p.keys))} />
      </div>
      <div class="table-wrap">
        <table class="data stack live-figures">
          <thead>
            <tr>
              <th>Node</th>
              <th class="num">Requests/s</th>
              <th class="num">p50 ms</th>
              <th class="num">p99 ms</th>
              <th class="num">Keys</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((url) => {
              // The last refresh's figures: a member that stopped answering shows none, not its old ones.
              const last = series.get(url)?.at(-1);
              const rate = last?.requestsPerS ?? undefined;
              const p50 = last?.p50Ms ?? undefined;
              const p99 = last?.p99Ms ?? undefined;
              const keys = last?.keys ?? undefined;
              return (
                <tr key={url} data-node={url} data-rate={rate} data-p50={p50} data-p99={p99} data-keys={keys}>
                  <td data-label="Node">
                    <NodeChip url={url} color={colorOf(url, memberUrls)} />
                  </td>
                  <td data-label="Requests/s" class="num">
                    {shown(rate, 1)}
                  </td>
                  <td data-label="p50 ms" class="num">
                    {shown(p50, 2)}
                  </td>
                  <td data-label="p99 ms" class="num">
                    {shown(p99, 2)}
                  </td>
                  <td data-label="Keys" class="num">
                    {keys === undefined ? "—" : formatCount(keys)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
