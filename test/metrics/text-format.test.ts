// The text renderer: HELP and TYPE lines, label escaping, and values the format spells specially.
import { expect, test } from "bun:test";
import { Counter, gauge } from "../../src/metrics/registry.ts";
import { escapeLabelValue, renderText } from "../../src/metrics/text-format.ts";
import { parsePrometheusText } from "../support/prometheus-text.ts";

test.each([
  ["plain", "plain"],
  ['a "quoted" value', 'a \\"quoted\\" value'],
  ["back\\slash", "back\\\\slash"],
  ["two\nlines", "two\\nlines"],
  ['\\"\n', '\\\\\\"\\n'],
])("the label value %p is written as %p", (value, escaped) => {
  expect(escapeLabelValue(value)).toBe(escaped);
});

test("a label value with every special character survives a render and a parse", () => {
  const counter = new Counter("odd_total", "help with a \\ and\na line break", ["route"]);
  const route = 'a\\b"c\nd}e,f=g';
  counter.inc({ route });
  const text = renderText([counter.collect()]);
  expect(text).toContain("# HELP odd_total help with a \\\\ and\\na line break\n");
  expect(text.split("\n").filter((line) => line !== "")).toHaveLength(3);
  expect(parsePrometheusText(text)).toEqual([{ name: "odd_total", labels: { route }, value: 1 }]);
});

test("each family opens with HELP and TYPE and the body ends in a line feed", () => {
  const text = renderText([gauge("g", "a gauge", [{ value: 1 }, { labels: { k: "v" }, value: 2.5 }])]);
  expect(text).toBe('# HELP g a gauge\n# TYPE g gauge\ng 1\ng{k="v"} 2.5\n');
});

test("infinities and NaN are spelled as the format spells them", () => {
  const text = renderText([gauge("g", "h", [{ value: Infinity }, { value: -Infinity }, { value: NaN }])]);
  expect(text).toContain("g +Inf\ng -Inf\ng NaN\n");
});

test("nothing to render is an empty body", () => {
  expect(renderText([])).toBe("");
});
