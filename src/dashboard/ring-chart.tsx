// The ring chart: each node's share of the hash space as a doughnut (Chart.js), with a legend of shares and vnodes.
/** @jsxImportSource preact */
import { ArcElement, Chart, DoughnutController, Tooltip } from "chart.js";
import { useEffect, useRef } from "preact/hooks";
import type { RingView } from "./api-types.ts";
import { colorOf, formatPercent, shortUrl } from "./format.ts";
import { NodeChip } from "./ui.tsx";

Chart.register(DoughnutController, ArcElement, Tooltip);

export function RingChart({ ring, memberUrls }: { ring: RingView; memberUrls: readonly string[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<"doughnut", number[], string> | undefined>(undefined);
  const nodes = [...ring.allNodes].sort();
  const shares = nodes.map((url) => ring.shares[url] ?? 0);
  const colors = nodes.map((url) => colorOf(url, memberUrls));

  useEffect(() => {
    if (canvas.current === null) return;
    chart.current = new Chart(canvas.current, {
      type: "doughnut",
      data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderWidth: 2, borderColor: "#ffffff" }] },
      options: {
        // A refresh every second would restart an animation every second.
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        cutout: "58%",
        plugins: { tooltip: { callbacks: { label: (item) => ` ${formatPercent(Number(item.raw))} of the ring` } } },
      },
    });
    return () => chart.current?.destroy();
  }, []);

  useEffect(() => {
    const current = chart.current;
    const dataset = current?.data.datasets[0];
    if (current === undefined || dataset === undefined) return;
    current.data.labels = nodes.map(shortUrl);
    dataset.data = shares;
    dataset.backgroundColor = colors;
    current.update("none");
  }, [JSON.stringify(shares), JSON.stringify(nodes), JSON.stringify(colors)]);

  return (
    <figure class="ring-chart" data-slices={nodes.length}>
      <div class="chart-box">
        <canvas ref={canvas} role="img" aria-label={`Share of the ring per node: ${nodes.map((url, i) => `${shortUrl(url)} ${formatPercent(shares[i] ?? 0)}`).join(", ")}`} />
      </div>
      <figcaption>
        <table class="legend">
          <thead>
            <tr>
              <th>Node</th>
              <th class="num">Share</th>
              <th class="num">Vnodes</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((url, i) => (
              <tr key={url} data-node={url}>
                <td>
                  <NodeChip url={url} color={colors[i] ?? "#4b5563"} />
                </td>
                <td class="num" data-share={shares[i]}>
                  {formatPercent(shares[i] ?? 0)}
                </td>
                <td class="num">{ring.virtualNodeDistribution[url] ?? 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </figcaption>
    </figure>
  );
}
