// A small parser for the Prometheus text format, strict enough to fail on a line the format does not allow.

export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL_PAIR = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,|$)/;

function unescape(value: string): string {
  return value.replace(/\\(\\|"|n)/g, (_all, escaped: string) => (escaped === "n" ? "\n" : escaped));
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const match = LABEL_PAIR.exec(rest);
    if (match === null) throw new Error(`bad labels in line: ${line}`);
    labels[match[1]!] = unescape(match[2]!);
    rest = rest.slice(match[0].length);
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad value in line: ${line}`);
  return value;
}

/** Every line is a comment, blank, or `name{labels} value`; anything else throws. */
export function parsePrometheusText(text: string): ParsedSample[] {
  const samples: ParsedSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    samples.push({ name: match[1]!, labels: parseLabels(match[2] ?? "", line), value: parseValue(match[3]!, line) });
  }
  return samples;
}

/** The samples of one name whose labels include every given label. */
export function select(samples: readonly ParsedSample[], name: string, labels: Record<string, string> = {}): ParsedSample[] {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** Checks every histogram series: buckets cumulative, ending in +Inf equal to _count. Throws on the first that is not. */
export function checkHistograms(samples: readonly ParsedSample[], name: string): void {
  const series = new Map<string, ParsedSample[]>();
  for (const sample of select(samples, `${name}_bucket`)) {
    const { le: _le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  for (const [key, buckets] of series) {
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${name} ${key}: buckets are not cumulative`);
      if (parseValue(buckets[i]!.labels.le!, "le") <= parseValue(buckets[i - 1]!.labels.le!, "le")) throw new Error(`${name} ${key}: bounds do not increase`);
    }
    const last = buckets.at(-1);
    if (last?.labels.le !== "+Inf") throw new Error(`${name} ${key}: buckets do not end in +Inf`);
    const count = samples.find((sample) => sample.name === `${name}_count` && JSON.stringify(sample.labels) === key);
    if (count?.value !== last.value) throw new Error(`${name} ${key}: +Inf bucket ${last.value} is not the count ${count?.value}`);
  }
}
