/**
 * What the bench reads inside the page, on the page's own clock (`performance.now()`, zero at
 * the navigation's start): when React hydrated the issue list, when the issues shape went
 * live, and how long a keystroke in the filter box takes to reach the screen.
 */
import type { Page } from "playwright-core";

interface KeyTiming {
  /** The keydown's timestamp: when the browser took the key, before any queueing. */
  start: number;
  /** After the frame that shows the list's new result was painted. */
  end: number;
}

interface Probe {
  hydratedAt?: number;
  liveAt?: number;
  key?: Promise<KeyTiming>;
  /** Times the next keystroke until the list's footer counts `rows` and the frame is painted. */
  arm: (rows: number) => void;
}

declare global {
  interface Window {
    __bench?: Probe;
  }
}

const SEARCH = 'input[aria-label="Search issue titles"]';
const LIST = 'section[aria-labelledby="issues-heading"]';

/** Runs in the page before any of its scripts (an init script): keep it self-contained. */
function installProbe(selectors: { search: string; list: string }): void {
  const probe: Probe = {
    arm: (rows) => {
      probe.key = new Promise<KeyTiming>((resolve) => {
        let start = NaN;
        const section = document.querySelector(selectors.list);
        // The list's footer ("N issues · …") is its row count: the list shows the new result
        // once it reads `rows`, whether React rendered synchronously or deferred the list.
        const shows = () =>
          section
            ?.querySelector(":scope > p")
            ?.textContent.startsWith(`${rows} issue`) === true;
        // The task after the next frame: that frame (style, layout, paint) is done.
        const painted = () =>
          requestAnimationFrame(() => {
            const channel = new MessageChannel();
            channel.port1.onmessage = () =>
              resolve({ start, end: performance.now() });
            channel.port2.postMessage(null);
          });
        document.addEventListener(
          "keydown",
          (event) => {
            start = event.timeStamp;
          },
          { capture: true, once: true },
        );
        document.addEventListener(
          "input",
          () => {
            if (shows() || !section) return painted();
            const observer = new MutationObserver(() => {
              if (!shows()) return;
              observer.disconnect();
              painted();
            });
            observer.observe(section, {
              subtree: true,
              childList: true,
              characterData: true,
            });
          },
          { capture: true, once: true },
        );
      });
    },
  };
  window.__bench = probe;

  // The issues shape is live when the client runtime makes its first `live=true` request:
  // it has the snapshot (or the server render's rows) and is up to date.
  const fetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url =
      typeof input === "string"
        ? input
        : input instanceof URL
          ? input.href
          : input.url;
    if (
      probe.liveAt === undefined &&
      url.includes("/api/shapes/issues?") &&
      url.includes("live=true")
    )
      probe.liveAt = performance.now();
    return fetch(input, init);
  };

  // Hydrated: React has attached its props to the server-rendered filter box.
  const poll = () => {
    const input = document.querySelector(selectors.search);
    if (input && Object.keys(input).some((k) => k.startsWith("__reactProps$")))
      probe.hydratedAt = performance.now();
    else requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}

export async function addProbe(page: Page): Promise<void> {
  await page.addInitScript(installProbe, { search: SEARCH, list: LIST });
}

/** Waits (bounded) until the list is hydrated and live; returns both moments. */
export async function whenInteractive(
  page: Page,
): Promise<{ hydratedAt: number; liveAt: number }> {
  const handle = await page.waitForFunction(
    () => {
      const probe = window.__bench;
      return probe?.hydratedAt !== undefined && probe.liveAt !== undefined
        ? { hydratedAt: probe.hydratedAt, liveAt: probe.liveAt }
        : undefined;
    },
    undefined,
    { timeout: 60_000, polling: 50 },
  );
  return handle.jsonValue() as Promise<{ hydratedAt: number; liveAt: number }>;
}

/**
 * Presses `key` in the focused filter box and returns key → painted in ms, once the list
 * shows `rows` rows (bounded: a list that never shows them fails the bench).
 */
export async function timeKey(
  page: Page,
  key: string,
  rows: number,
): Promise<number> {
  await page.evaluate((rows) => window.__bench?.arm(rows), rows);
  await page.keyboard.press(key);
  let timer: NodeJS.Timeout | undefined;
  const timing = await Promise.race([
    page.evaluate(() => window.__bench?.key),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`the list never showed ${rows} rows after "${key}"`),
          ),
        30_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  if (!timing) throw new Error("the probe is not installed");
  return timing.end - timing.start;
}

export { SEARCH };
