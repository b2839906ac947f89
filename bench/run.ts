// The orchestrator behind `bun run bench [ring] [store] [http] [cluster] [replication] [scale] [resp]`: runs the parts, prints the table, writes README.md.
import { undoOnInterrupt } from "./cleanup.ts";
import { benchCluster } from "./cluster.ts";
import { PARTS, type Part, type PartResult } from "./figures.ts";
import { benchHttp } from "./http.ts";
import { describeMachine } from "./machine.ts";
import { CHART_PATH, README_PATH, writeReadme } from "./readme.ts";
import { consoleReport } from "./report.ts";
import { benchReplication } from "./replication.ts";
import { benchRing } from "./ring.ts";
import { benchScale } from "./scale.ts";
import { benchResp } from "./resp.ts";
import { benchStore } from "./store.ts";

const RUNNERS: Record<Part, () => Promise<PartResult>> = { ring: benchRing, store: benchStore, http: benchHttp, cluster: benchCluster, replication: benchReplication, scale: benchScale, resp: benchResp };
const EXIT_USAGE = 2;

function isPart(word: string): word is Part {
  return (PARTS as readonly string[]).includes(word);
}

function chosenParts(argv: readonly string[]): Part[] {
  const unknown = argv.filter((word) => !isPart(word));
  if (unknown.length > 0) {
    console.error(`bench: unknown part "${unknown[0]}"; usage: bun run bench [${PARTS.join("] [")}]  (no part means all)`);
    process.exit(EXIT_USAGE);
  }
  return argv.length === 0 ? [...PARTS] : PARTS.filter((part) => argv.includes(part));
}

undoOnInterrupt();
const parts = chosenParts(Bun.argv.slice(2));
const machine = describeMachine();
const started = performance.now();
const results: PartResult[] = [];
for (const part of parts) {
  console.log(`bench: ${part}…`);
  results.push(await RUNNERS[part]());
}
const totalMs = performance.now() - started;
console.log(`\n${consoleReport(results, totalMs)}`);
if (parts.length === PARTS.length) {
  await writeReadme({ results, machine, totalMs });
  console.log(`\nbench: wrote ${README_PATH} and ${CHART_PATH}`);
} else {
  console.log("\nbench: partial run, README.md and chart.svg left as they were (run every part to rewrite them)");
}
