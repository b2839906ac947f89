// The dashboard in a real browser (Debian's chromium, playwright-core) against a real 3-node cluster: issue 5's
// "Done when", step by step, with a screenshot of every view at 1280×800 and at 390 px under test-output/dashboard/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { openBrowser, type Browser } from "../support/browser.ts";
import { type Cluster, fetchNode, startCluster, waitForAgreement, waitUntil } from "../support/cluster.ts";

const SHOTS_DIR = join(import.meta.dir, "..", "..", "test-output", "dashboard");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** Bound on one wait for the page: a state the page should reach within a few refreshes. */
const UI_TIMEOUT_MS = 10_000;
/** Start of three nodes, their agreement and chromium's launch, on a loaded 2-core machine. */
const SETUP_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 20_000;
const AGREEMENT_TIMEOUT_MS = 10_000;
const SEED_COUNT = 50;
/** Bound on the load the traffic charts are shown: a few refreshes at one a second. */
const LOAD_MS_MAX = 10_000;
/** URLs a visitor might type or link to; the page must refuse both and never ask them anything. */
const STRANGER = "http://127.0.0.1:9";
const OUTSIDER = "http://127.0.0.2:8080";

let cluster: Cluster;
let browser: Browser;
let page: Page;
/** Every URL the page asked for, to check it spoke to nobody but the cluster. */
const requested: string[] = [];
const pageErrors: string[] = [];

const serving = () => cluster.node(0).url;
const byUrl = (url: string) => `[data-node="${url}"]`;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS_DIR, `${name}.png`), fullPage: true });
}

/** Waits until `condition` holds in the page; `what` names it in the failure. */
async function until<A extends string | number | null>(what: string, condition: (arg: A) => boolean, arg: A, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  try {
    // Playwright types the argument as it arrives in the page; for strings, numbers and null that is the same type.
    await page.waitForFunction(condition as (arg: unknown) => boolean, arg as unknown, { timeout: timeoutMs, polling: 50 });
  } catch (error) {
    throw new Error(`the page never showed ${what} within ${timeoutMs} ms: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
  }
}

async function openView(view: "overview" | "explorer" | "query" | "seed"): Promise<void> {
  await page.click(`a.tab[href="#${view}"]`);
  await page.waitForSelector(`a.tab.active[href="#${view}"]`);
}

/** The union of every node's keys, as the API lists them. */
async function clusterKeys(): Promise<Map<string, number>> {
  const holders = new Map<string, number>();
  for (const url of cluster.urls) {
    const body = (await (await fetchNode(`${url}/api/v1/keys?page=1&pageSize=100`)).json()) as { keys: { key: string }[] };
    for (const { key } of body.keys) holders.set(key, (holders.get(key) ?? 0) + 1);
  }
  return holders;
}

async function apiGet(url: string, key: string): Promise<{ status: number; body: string }> {
  const response = await fetchNode(`${url}/api/v1/get/${encodeURIComponent(key)}`);
  return { status: response.status, body: await response.text() };
}

async function noHorizontalScroll(): Promise<void> {
  const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, viewport: window.innerWidth }));
  expect(widths.page).toBeLessThanOrEqual(widths.viewport);
}

describe("the dashboard", () => {
  beforeAll(async () => {
    await mkdir(SHOTS_DIR, { recursive: true });
    // Chromium starts while the nodes do; whichever fails, the other is still stopped in afterAll.
    const [started, opened] = await Promise.allSettled([startCluster({ size: 3 }), openBrowser(DESKTOP)]);
    if (started.status === "fulfilled") cluster = started.value;
    if (opened.status === "fulfilled") browser = opened.value;
    if (started.status === "rejected") throw started.reason;
    if (opened.status === "rejected") throw opened.reason;
    await waitForAgreement(cluster.urls, cluster.urls, AGREEMENT_TIMEOUT_MS);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    browser.context.on("request", (request) => void requested.push(request.url()));
    page.on("pageerror", (error) => void pageErrors.push(error.message));
    // The page's own Content-Security-Policy must never have to stop it (a script, style or request it did not allow).
    page.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) pageErrors.push(message.text());
    });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.[Symbol.asyncDispose]();
    await cluster?.[Symbol.asyncDispose]();
  }, SETUP_TIMEOUT_MS);

  test("opens at /dashboard and shows three healthy nodes and the ring chart", async () => {
    await page.goto(`${serving()}/dashboard`);
    await page.selectOption('select[aria-label="Refresh interval"]', "1000");
    await until("three healthy nodes", () => document.querySelectorAll('table.nodes tr[data-status="healthy"]').length === 3, null);
    expect(await page.textContent('[data-testid="stat-nodes"] .stat-value')).toBe("3 / 3 healthy");
    expect(await page.textContent('[data-testid="stat-majority"] .stat-value')).toBe("yes · sees 3 / 3");
    for (const url of cluster.urls) expect(await page.locator(`table.nodes tr${byUrl(url)} .badge`).first().textContent()).toBe("healthy");

    // The ring chart: one slice per node drawn on the canvas, and a legend whose shares add up to the whole ring.
    await page.waitForSelector('figure.ring-chart[data-slices="3"] canvas');
    const painted = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>("figure.ring-chart canvas");
      const pixels = canvas?.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
      let opaque = 0;
      for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) opaque++;
      return opaque;
    });
    expect(painted).toBeGreaterThan(1000);
    const shares = await page.$$eval("figure.ring-chart td[data-share]", (cells) => cells.map((cell) => Number(cell.getAttribute("data-share"))));
    expect(shares).toHaveLength(3);
    expect(shares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 6);

    // Replication settings and the hint backlog, as /api/v1/cluster/state reports them.
    expect(await page.textContent('[data-testid="stat-replication"] .stat-value')).toBe("RF 3 · W 2 · R 2");
    expect(await page.textContent('[data-testid="stat-hints"] .stat-value')).toBe("0");
    await shot("desktop-01-overview");
  }, STEP_TIMEOUT_MS);

  test("reads another member when asked, and refuses a URL that is not a member", async () => {
    const other = cluster.node(1).url;
    await page.goto(`${serving()}/dashboard?node=${encodeURIComponent(other)}`);
    await until("the overview as the other member sees it", (url) => document.querySelector(".source strong")?.textContent === url.replace("http://", ""), other);
    expect(await page.inputValue('select[aria-label="Node"]')).toBe(other);
    await until("three healthy nodes", () => document.querySelectorAll('table.nodes tr[data-status="healthy"]').length === 3, null);

    await page.click(".connect summary");
    await page.fill('input[aria-label="Member URL"]', STRANGER);
    await page.click('.connect button[type="submit"]');
    expect(await page.textContent(".connect .error-note")).toContain(`${STRANGER} is not a member of this cluster`);

    await page.goto(`${serving()}/dashboard?node=${encodeURIComponent(OUTSIDER)}`);
    await page.waitForSelector(`main > .error-note:has-text("${OUTSIDER} is not a member of this cluster")`);
    await until("three healthy nodes", () => document.querySelectorAll('table.nodes tr[data-status="healthy"]').length === 3, null);
    await page.goto(`${serving()}/dashboard`);
  }, STEP_TIMEOUT_MS);

  test("seeds 50 keys and the progress bar runs to the end", async () => {
    await openView("seed");
    await page.fill('input[aria-label="Number of records"]', String(SEED_COUNT));
    // Every value the bar takes is recorded in the page, so the test sees it move, not only where it ends.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { progressSeen: number[] }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('[role="progressbar"]');
        if (bar !== null) seen.push(Number(bar.getAttribute("aria-valuenow")));
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"] });
    });
    await page.click('button:has-text("Seed")');
    await until("the seed finished", () => document.querySelector('.seed-progress[data-state="done"]') !== null, null);
    expect(await page.getAttribute('[role="progressbar"]', "aria-valuenow")).toBe(String(SEED_COUNT));
    expect(await page.textContent('[data-testid="seed-progress-text"]')).toStartWith(`${SEED_COUNT} / ${SEED_COUNT} · ${SEED_COUNT} written ·`);
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
    expect(seen.at(-1)).toBe(SEED_COUNT);
    expect(seen.every((value, i) => i === 0 || value >= (seen[i - 1] ?? 0))).toBe(true);
    expect(new Set(seen).size).toBeGreaterThan(2);
    await shot("desktop-02-seed");
  }, STEP_TIMEOUT_MS);

  test("charts each member's requests/s, p50/p99 latency and keys, from its /metrics", async () => {
    await openView("overview");
    const busy = cluster.node(1);
    // Load on one member only, bounded in time: GETs of a seeded key, four at a time, until the page shows it.
    const stopAtMs = Date.now() + LOAD_MS_MAX;
    let stop = false;
    let sent = 0;
    const loop = async () => {
      while (!stop && Date.now() < stopAtMs) {
        await (await fetchNode(`${busy.url}/api/v1/get/missing-${sent++}`)).text();
      }
    };
    const load = Promise.all(Array.from({ length: 4 }, loop));
    const readFigures = () =>
      page.$$eval("table.live-figures tr[data-node]", (rows) =>
        rows.map((row) => ({ url: row.getAttribute("data-node"), rate: Number(row.getAttribute("data-rate") ?? 0), keys: Number(row.getAttribute("data-keys")) })),
      );
    let figures: Awaited<ReturnType<typeof readFigures>>;
    try {
      // Until a refresh's interval lies within the load: the busy member ahead of the others, which see only
      // the page's own reads (and the seed's writes, in the interval just after it).
      await until(
        "the busy member's requests/s and latency, ahead of the others",
        (url) => {
          const rates = Array.from(document.querySelectorAll("table.live-figures tr[data-node]"), (row) => ({ url: row.getAttribute("data-node"), rate: Number(row.getAttribute("data-rate") ?? 0) }));
          const busyRate = rates.find((r) => r.url === url)?.rate ?? 0;
          const p99 = Number(document.querySelector(`table.live-figures tr[data-node="${url}"]`)?.getAttribute("data-p99") ?? 0);
          return busyRate > 20 && p99 > 0 && rates.every((r) => r.url === url || r.rate < busyRate / 2);
        },
        busy.url,
        LOAD_MS_MAX,
      );
      figures = await readFigures();
    } finally {
      stop = true;
      await load;
    }
    expect(figures.map((f) => f.url).sort()).toEqual([...cluster.urls].sort());
    // Keys per member as each one's own health says.
    for (const url of cluster.urls) {
      const health = (await (await fetchNode(`${url}/api/v1/health`)).json()) as { storage: { keys: number } };
      expect(figures.find((f) => f.url === url)?.keys).toBe(health.storage.keys);
    }
    // Three charts drawn, each with known points.
    for (const id of ["chart-requests", "chart-latency", "chart-keys"]) {
      expect(Number(await page.getAttribute(`[data-testid="${id}"]`, "data-points"))).toBeGreaterThan(0);
      const painted = await page.evaluate((testId) => {
        const canvas = document.querySelector<HTMLCanvasElement>(`[data-testid="${testId}"] canvas`);
        const pixels = canvas?.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
        let opaque = 0;
        for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) opaque++;
        return opaque;
      }, id);
      expect(painted).toBeGreaterThan(500);
    }
    await page.locator('[data-testid="chart-requests"]').scrollIntoViewIfNeeded();
    await shot("desktop-02b-overview-traffic");
  }, STEP_TIMEOUT_MS);

  test("finds the 50 keys in the All nodes view, each once, by the cluster-wide scan", async () => {
    // Writes are acknowledged by a quorum of two; the third copy lands a moment later.
    const { value: keys } = await waitUntil("every node holds the 50 seeded keys", clusterKeys, (held) => held.size === SEED_COUNT && [...held.values()].every((n) => n === 3), UI_TIMEOUT_MS);
    const scanned: string[] = [];
    page.on("request", (request) => void (request.url().includes("/api/v1/scan") && scanned.push(request.url())));
    await page.selectOption('select[aria-label="Node"]', "*all");
    await openView("explorer");
    await page.selectOption('select[aria-label="Keys per page"]', "100");
    await until(
      "all 50 keys of the cluster",
      (count) => document.querySelector(`[data-testid="explorer-summary"][data-loading="false"][data-total="${count}"]`) !== null,
      SEED_COUNT,
    );
    const rows = await page.$$eval("table.keys tr[data-key]", (trs) => trs.map((tr) => ({ key: tr.getAttribute("data-key") ?? "", writer: tr.getAttribute("data-written-by") ?? "" })));
    // Each key once, though three nodes hold it: the listing is the scan's, not three nodes' merged.
    expect(rows.map((row) => row.key)).toEqual([...keys.keys()].sort());
    expect(rows.every((row) => cluster.urls.includes(row.writer))).toBe(true);
    expect(scanned.length).toBeGreaterThan(0);
    expect(scanned.every((url) => url.startsWith(`${serving()}/api/v1/scan?`))).toBe(true);
    await page.selectOption('select[aria-label="Keys per page"]', "20");
    await shot("desktop-03-explorer-all-nodes");
  }, STEP_TIMEOUT_MS);

  test("runs SET, GET and DEL from the form, with the status and body of each answer", async () => {
    await openView("query");
    const run = async (command: string, key: string, value?: string) => {
      const before = await page.locator("article.result").count();
      await page.selectOption('select[aria-label="Command"]', command);
      await page.fill('input[aria-label="Key"]', key);
      if (value !== undefined) await page.fill('.query textarea[aria-label="Value"]', value);
      await page.click('.query-form button[type="submit"]');
      await until("a new answer", (n) => document.querySelectorAll("article.result").length === n + 1, before);
      const newest = page.locator("article.result").first();
      return { status: await newest.getAttribute("data-status"), body: (await newest.locator("pre.body").textContent()) ?? "" };
    };
    expect(await run("SET", "dash:form", "hello from the form")).toEqual({ status: "200", body: "OK" });
    expect((await apiGet(cluster.node(2).url, "dash:form")).body).toContain('"value":"hello from the form"');
    const got = await run("GET", "dash:form");
    expect(got.status).toBe("200");
    expect(JSON.parse(got.body)).toMatchObject({ value: "hello from the form" });
    expect(await run("DEL", "dash:form")).toEqual({ status: "200", body: "1" });
    // An error answer is shown as the node gave it.
    const missing = await run("GET", "dash:form");
    expect(missing.status).toBe("404");
    expect(JSON.parse(missing.body)).toMatchObject({ code: "not_found" });
    await shot("desktop-04-query-form");
  }, STEP_TIMEOUT_MS);

  test("runs SET, GET and DEL as text lines, a quoted key with spaces included", async () => {
    await page.click('button[role="tab"]:has-text("Text")');
    await page.click('button:has-text("Clear results")');
    await page.fill('textarea[aria-label="Commands"]', ['SET "dash text" hello from text mode', 'GET "dash text"', 'DEL "dash text"'].join("\n"));
    await page.click('.query-form button[type="submit"]');
    await until("three answers", () => document.querySelectorAll("article.result").length === 3, null);
    // Newest first: DEL, GET, SET.
    const answers = await page.$$eval("article.result", (cards) =>
      cards.map((card) => ({ command: card.querySelector(".command")?.textContent, status: card.getAttribute("data-status"), body: card.querySelector("pre.body")?.textContent })),
    );
    expect(answers[2]).toEqual({ command: 'SET "dash text" hello from text mode', status: "200", body: "OK" });
    expect(answers[1]?.status).toBe("200");
    expect(JSON.parse(answers[1]?.body ?? "{}")).toMatchObject({ value: "hello from text mode" });
    expect(answers[0]).toEqual({ command: 'DEL "dash text"', status: "200", body: "1" });
    expect((await apiGet(serving(), "dash text")).status).toBe(404);
    await shot("desktop-05-query-text");
  }, STEP_TIMEOUT_MS);

  test("edits a key and deletes it, after a confirmation, from the explorer", async () => {
    const [key] = [...(await clusterKeys()).keys()].sort();
    if (key === undefined) throw new Error("no seeded key left to edit");
    await openView("explorer");
    await page.fill('input[aria-label="Filter"]', key);
    await until("only the filtered key", () => document.querySelectorAll("table.keys tr[data-key]").length === 1, null);
    await page.click(`table.keys tr[data-key="${key}"] button.key`);
    await page.waitForSelector('[role="dialog"] .replicas li[data-replica]');
    await until("the key's value in the editor", () => (document.querySelector<HTMLTextAreaElement>('[role="dialog"] textarea[aria-label="Value"]')?.value ?? "") !== "", null);
    expect(await page.locator('[role="dialog"] .replicas li[data-replica]').count()).toBe(3);

    await page.fill('[role="dialog"] textarea[aria-label="Value"]', "edited in the dashboard");
    await page.click('[role="dialog"] button:has-text("Save")');
    await page.waitForSelector('[role="dialog"] .notice:has-text("Saved through")');
    // Read through another node: the edit went to the cluster, not only to the node the page used.
    expect(JSON.parse((await apiGet(cluster.node(1).url, key)).body)).toMatchObject({ value: "edited in the dashboard" });
    await shot("desktop-06-key-panel");

    await page.click('[role="dialog"] button:has-text("Delete…")');
    await page.waitForSelector('[role="dialog"][aria-label="Delete this key?"]');
    // Nothing is deleted before the confirmation.
    expect((await apiGet(cluster.node(2).url, key)).status).toBe(200);
    await shot("desktop-07-confirm-delete");
    await page.click('[role="dialog"][aria-label="Delete this key?"] button.btn-danger');
    await page.waitForSelector('[role="dialog"]', { state: "detached" });
    await page.waitForSelector(`.notice:has-text("Deleted ${key}.")`);
    await until("the deleted key gone from the listing", () => document.querySelectorAll("table.keys tr[data-key]").length === 0, null);
    expect((await apiGet(cluster.node(2).url, key)).status).toBe(404);
    await page.fill('input[aria-label="Filter"]', "");
  }, STEP_TIMEOUT_MS);

  test("fits a 390-pixel-wide phone screen in every view", async () => {
    await page.setViewportSize(PHONE);
    await openView("overview");
    await until("three healthy nodes", () => document.querySelectorAll('table.nodes tr[data-status="healthy"]').length === 3, null);
    await noHorizontalScroll();
    await shot("phone-01-overview");
    await openView("explorer");
    await until("the merged listing", () => document.querySelector('[data-testid="explorer-summary"][data-loading="false"]') !== null, null);
    await noHorizontalScroll();
    await shot("phone-02-explorer");
    await openView("query");
    await noHorizontalScroll();
    await shot("phone-03-query");
    await openView("seed");
    await noHorizontalScroll();
    await shot("phone-04-seed");
    await page.setViewportSize(DESKTOP);
  }, STEP_TIMEOUT_MS);

  test("marks a killed node down", async () => {
    await page.selectOption('select[aria-label="Node"]', serving());
    await openView("overview");
    await until("three healthy nodes", () => document.querySelectorAll('table.nodes tr[data-status="healthy"]').length === 3, null);
    await shot("desktop-08-overview-with-data");
    const victim = cluster.node(2);
    await victim.kill9();
    await until("the killed node down", (url) => document.querySelector(`table.nodes tr[data-node="${url}"][data-status="down"]`) !== null, victim.url);
    expect(await page.textContent('[data-testid="stat-nodes"] .stat-value')).toBe("2 / 3 healthy");
    // Dead, the node still counts as a member: the serving node sees two of three, a majority.
    await until("the majority card counts the dead member", () => document.querySelector('[data-testid="stat-majority"] .stat-value')?.textContent === "yes · sees 2 / 3", null);
    expect(await page.locator(`table.nodes tr${byUrl(victim.url)} .badge`).first().textContent()).toBe("down");
    await shot("desktop-09-overview-node-down");
  }, STEP_TIMEOUT_MS);

  test("spoke only to members of the cluster and threw no error", () => {
    const origins = new Set(cluster.nodes.map((node) => new URL(node.url).origin));
    const strangers = requested.filter((url) => !url.startsWith("data:") && !origins.has(new URL(url).origin));
    expect(strangers).toEqual([]);
    expect(requested.some((url) => url.startsWith(STRANGER) || url.startsWith(OUTSIDER))).toBe(false);
    expect(requested.length).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
  });
});
