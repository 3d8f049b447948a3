/**
 * `pnpm --filter @repo/web bench` (part of `pnpm bench`): a project page with 5,000 issues
 * beside the same page with 500, in one run, against the production build (`next build` +
 * `next start`, the kit's sync server, PostgreSQL; the browser tests' stack) in Chromium.
 *
 * Per size: one warm-up load, then LOADS loads in new tabs of one signed-in profile (cached
 * scripts, as for a returning user): server render (TTFB, HTML complete, HTML size), first
 * contentful paint, hydration, the issues shape live, the first keypress handled, and time to
 * interactive = max(hydrated, live) + that keypress (key → the list's new result painted);
 * heap after a forced GC and DOM nodes. Then typing in the filter box: each keystroke from its
 * keydown to the frame painted after the list shows its new result (medians of the loads,
 * p50/p99 of the keystrokes). What each figure includes: bench/README.md ("Product app").
 */
import type { BrowserContext } from "playwright-core";
import { it } from "vitest";

import type { SeededIssue } from "./seed";
import { launchBrowser, signIn } from "../test/e2e/support/browser";
import { startWebStack } from "../test/e2e/support/web-stack";
import { addProbe, SEARCH, timeKey, whenInteractive } from "./page-probe";
import { format, load, median, quantile, table } from "./report";
import { benchIssues, expectedRows, seedProject } from "./seed";

const SIZES = [500, 5_000];
const LOADS = 5;
/** Typed letter by letter, then erased: 100 keystrokes that narrow and widen the list. */
const QUERIES = [
  "crash",
  "dark mode",
  "csv export",
  "safari",
  "offline queue",
  "billing",
];
const USER = {
  name: "Bench User",
  email: "bench@example.com",
  password: "correct horse battery",
};

interface LoadFigures {
  ttfb: number;
  htmlDone: number;
  htmlBytes: number;
  transferBytes: number;
  fcp: number;
  hydrated: number;
  live: number;
  firstKey: number;
  tti: number;
  heap: number;
  nodes: number;
  script: number;
  layout: number;
  style: number;
}

/** Opens the page in a new tab, waits until it is interactive, and presses one key. */
async function loadPage(
  context: BrowserContext,
  url: string,
  firstKey: { key: string; rows: number },
) {
  const page = await context.newPage();
  await addProbe(page);
  const cdp = await context.newCDPSession(page);
  // Main-thread time (script, style, layout) counts from here: before the navigation.
  await cdp.send("Performance.enable");
  await page.goto(url, { waitUntil: "commit" });
  const { hydratedAt, liveAt } = await whenInteractive(page);
  await page.locator(SEARCH).focus();
  const key = await timeKey(page, firstKey.key, firstKey.rows);
  const timing = await page.evaluate(() => {
    const [navigation] = performance.getEntriesByType(
      "navigation",
    ) as PerformanceNavigationTiming[];
    const [fcp] = performance.getEntriesByName("first-contentful-paint");
    return {
      ttfb: navigation?.responseStart ?? NaN,
      htmlDone: navigation?.responseEnd ?? NaN,
      htmlBytes: navigation?.decodedBodySize ?? NaN,
      transferBytes: navigation?.encodedBodySize ?? NaN,
      fcp: fcp?.startTime ?? NaN,
    };
  });
  await cdp.send("HeapProfiler.collectGarbage");
  const metric = new Map(
    (await cdp.send("Performance.getMetrics")).metrics.map((m) => [
      m.name,
      m.value,
    ]),
  );
  const seconds = (name: string) => (metric.get(name) ?? NaN) * 1_000;
  const figures: LoadFigures = {
    ...timing,
    hydrated: hydratedAt,
    live: liveAt,
    firstKey: key,
    tti: Math.max(hydratedAt, liveAt) + key,
    heap: metric.get("JSHeapUsedSize") ?? NaN,
    nodes: metric.get("Nodes") ?? NaN,
    script: seconds("ScriptDuration"),
    layout: seconds("LayoutDuration"),
    style: seconds("RecalcStyleDuration"),
  };
  return { page, figures };
}

/** Each character of each query typed, then erased: [key, the rows the list must show]. */
function keystrokes(issues: readonly SeededIssue[]): [string, number][] {
  const keys: [string, number][] = [];
  for (const query of QUERIES) {
    for (let i = 1; i <= query.length; i++)
      keys.push([query[i - 1] ?? "", expectedRows(issues, query.slice(0, i))]);
    for (let i = query.length - 1; i >= 0; i--)
      keys.push(["Backspace", expectedRows(issues, query.slice(0, i))]);
  }
  return keys;
}

async function measure(
  context: BrowserContext,
  url: string,
  issues: readonly SeededIssue[],
) {
  const first = QUERIES[0]?.[0] ?? "c";
  const firstKey = { key: first, rows: expectedRows(issues, first) };
  // The warm-up builds the shape on the sync server and fills the tab's script cache.
  await (await loadPage(context, url, firstKey)).page.close();
  const loads: LoadFigures[] = [];
  console.log(`${issues.length} issues: ${LOADS} loads…`);
  for (let i = 0; i < LOADS; i++) {
    const { page, figures } = await loadPage(context, url, firstKey);
    loads.push(figures);
    await page.close();
  }
  const { page } = await loadPage(context, url, firstKey);
  try {
    await timeKey(page, "Backspace", expectedRows(issues, ""));
    const typing: number[] = [];
    const slowest: string[] = [];
    console.log(`${issues.length} issues: typing…`);
    for (const [key, rows] of keystrokes(issues)) {
      const ms = await timeKey(page, key, rows);
      typing.push(ms);
      slowest.push(`${format.ms(ms)} (${key} → ${rows} rows)`);
    }
    slowest.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    return {
      loads,
      typing,
      slowest: slowest.slice(0, 3),
      shown: expectedRows(issues, ""),
    };
  } finally {
    await page.close();
  }
}

type Result = Awaited<ReturnType<typeof measure>>;

function report(results: readonly Result[]): string {
  const of = (pick: (figures: LoadFigures) => number) =>
    results.map((result) => median(result.loads.map(pick)));
  const rows: [string, number[], (value: number) => string][] = [
    ["rows shown (open issues)", results.map((r) => r.shown), String],
    ["server: TTFB", of((f) => f.ttfb), format.ms],
    ["server: HTML complete", of((f) => f.htmlDone), format.ms],
    ["HTML size", of((f) => f.htmlBytes), format.kb],
    ["… transferred (gzip)", of((f) => f.transferBytes), format.kb],
    ["first contentful paint", of((f) => f.fcp), format.ms],
    ["hydrated", of((f) => f.hydrated), format.ms],
    ["issues shape live", of((f) => f.live), format.ms],
    ["first keypress → painted", of((f) => f.firstKey), format.ms],
    ["time to interactive", of((f) => f.tti), format.ms],
    ["main thread until then: script", of((f) => f.script), format.ms],
    ["… style", of((f) => f.style), format.ms],
    ["… layout", of((f) => f.layout), format.ms],
    ["JS heap after GC", of((f) => f.heap), format.mb],
    ["DOM nodes", of((f) => f.nodes), String],
    [
      "typing: key → painted p50",
      results.map((r) => quantile(r.typing, 0.5)),
      format.ms,
    ],
    ["… p99", results.map((r) => quantile(r.typing, 0.99)), format.ms],
    ["… max", results.map((r) => Math.max(...r.typing)), format.ms],
    [
      "… keystrokes over 16 ms",
      results.map((r) => r.typing.filter((t) => t > 16).length),
      (v) => `${v} / ${results[0]?.typing.length ?? 0}`,
    ],
  ];
  return table(
    ["project page", ...SIZES.map((size) => `${size} issues`)],
    rows.map(([label, values, show]) => [label, ...values.map(show)]),
  );
}

it("a project page's first paint, time to interactive and filter typing, by size", async () => {
  const loadBefore = load();
  const started: (() => Promise<void>)[] = [];
  try {
    const browser = await launchBrowser();
    started.push(() => browser.close());
    // Over HTTP/2, as production is served (README, Deploy): on HTTP/1.1 the page's live
    // shapes hold most of the six connections a browser opens to one host.
    const stack = await startWebStack({ http2: true });
    started.push(() => stack.stop());
    await stack.signUp(USER);
    const [owner] = await stack.query<{ id: string }>(
      "SELECT id::text AS id FROM users WHERE email = $1",
      [USER.email],
    );
    if (!owner) throw new Error("the bench user was not signed up");
    const user = await signIn({ browser, url: stack.url, ...USER });
    // Its live shapes would hold two of the profile's six connections.
    await user.page.close();
    const results: Result[] = [];
    for (const size of SIZES) {
      const issues = benchIssues(size);
      const projectId = await seedProject(stack, {
        ownerId: owner.id,
        name: `${size} issues`,
        issues,
      });
      results.push(
        await measure(
          user.context,
          `${stack.url}/projects/${projectId}`,
          issues,
        ),
      );
    }
    const slowest = results.map(
      (result, i) =>
        `slowest keystrokes, ${SIZES[i]} issues: ${result.slowest.join(", ")}`,
    );
    console.log(
      `\n${report(results)}\n\n${slowest.join("\n")}\n\nmedian of ${LOADS} loads per size (after a warm-up), ${results[0]?.typing.length ?? 0} keystrokes; load average (1/5/15 min) ${loadBefore} before, ${load()} after\n`,
    );
  } finally {
    for (const stop of started.reverse()) await stop();
  }
});
