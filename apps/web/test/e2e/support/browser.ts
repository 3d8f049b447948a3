/**
 * Chromium (the system's /usr/bin/chromium, driven by playwright-core) for the browser tests:
 * one browser per file, a context per user, and the helpers every test uses.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { chromium } from "playwright-core";

import { webDir } from "./next-build";
import { PROTOCOL_PARAMS } from "./protocol-params";

const CHROMIUM = "/usr/bin/chromium";
const artifactsDir = join(webDir, "test/e2e/artifacts");

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      // The HTTP/2 front's certificate is self-signed (support/http2-front.ts).
      "--ignore-certificate-errors",
    ],
  });
}

export interface SignedInUser {
  context: BrowserContext;
  page: Page;
  /** Console errors and warnings, and uncaught page errors, since the page opened. */
  problems: string[];
}

/** Console errors, warnings and page errors of a page (hydration mismatches among them). */
function watchProblems(page: Page, problems: string[]): void {
  page.on("console", (message) => {
    const text = message.text();
    // Electric's advice to use HTTP/2 is right, and beside the point here.
    if (text.startsWith("[Electric] Using HTTP (not HTTPS)")) return;
    // A request the test cut off (offline) is reported by Chromium as a failed resource.
    if (text.startsWith("Failed to load resource")) return;
    if (message.type() === "error" || message.type() === "warning")
      problems.push(text);
  });
  page.on("pageerror", (error) => problems.push(error.message));
}

/** A new browser profile signed in through the sign-in form. */
export async function signIn(options: {
  browser: Browser;
  url: string;
  email: string;
  password: string;
  screenshot?: string;
}): Promise<SignedInUser> {
  const context = await options.browser.newContext({
    viewport: { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  const problems: string[] = [];
  watchProblems(page, problems);
  await page.goto(`${options.url}/sign-in`);
  await page.getByLabel("Email").fill(options.email);
  await page.getByLabel("Password").fill(options.password);
  if (options.screenshot) await screenshot(page, options.screenshot);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${options.url}/projects`);
  return { context, page, problems };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(artifactsDir, { recursive: true });
  await page.screenshot({ path: join(artifactsDir, `${name}.png`) });
}

/**
 * The live shapes a page follows, seen from Chromium's network log (CDP): every live request
 * to the shape proxy (`live=true`, long-poll or SSE). Each live shape keeps one such request
 * open at all times, and on HTTP/1.1 each open one holds a connection: `mostOpen` is the most
 * open at once during a window (a stream re-requesting — a long-poll's next request, a 409's
 * retry with `expired_handle` — is still one), `shapes` the shapes seen, for the log.
 */
export async function watchLiveShapes(page: Page): Promise<{
  during(ms: number): Promise<{ shapes: string[]; mostOpen: number }>;
}> {
  const cdp = await page.context().newCDPSession(page);
  const open = new Map<string, string>();
  let window: { shapes: Set<string>; mostOpen: number } | undefined;
  cdp.on("Network.requestWillBeSent", ({ requestId, request }) => {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/api/shapes/")) return;
    if (url.searchParams.get("live") !== "true") return;
    // The shape, not the position in it nor how it is followed.
    for (const name of PROTOCOL_PARAMS) url.searchParams.delete(name);
    const shape = `${url.pathname.slice("/api/shapes/".length)}${url.search}`;
    open.set(requestId, shape);
    if (!window) return;
    window.shapes.add(shape);
    window.mostOpen = Math.max(window.mostOpen, open.size);
  });
  const done = ({ requestId }: { requestId: string }) => open.delete(requestId);
  cdp.on("Network.loadingFinished", done);
  cdp.on("Network.loadingFailed", done);
  await cdp.send("Network.enable");
  return {
    during: async (ms) => {
      window = { shapes: new Set(open.values()), mostOpen: open.size };
      await new Promise((resolve) => setTimeout(resolve, ms));
      const { shapes, mostOpen } = window;
      window = undefined;
      return { shapes: [...shapes].sort(), mostOpen };
    },
  };
}
