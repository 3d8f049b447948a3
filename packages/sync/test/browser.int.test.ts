/**
 * The runtime in Chromium (playwright-core, the system's /usr/bin/chromium): a server-rendered
 * page hydrates without a warning, the IndexedDB outbox survives a reload while the api is
 * down, and tabs of one profile show each other's pending writes and send each write once.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { TestDatabase } from "@repo/test-support";
import { createTestDatabase } from "@repo/test-support";

import type { BrowserStack } from "./browser/stack";
import { startBrowserStack } from "./browser/stack";

const CHROMIUM = "/usr/bin/chromium";

let database: TestDatabase;
let stack: BrowserStack;
let browser: Browser;

beforeAll(async () => {
  database = await createTestDatabase();
  stack = await startBrowserStack(database);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser.close();
  await stack.stop();
  await database.drop();
});

/** Console messages of a page, for the hydration check. */
function consoleOf(page: Page): string[] {
  const messages: string[] = [];
  page.on("console", (message) => {
    // Electric's advice to serve shapes over HTTP/2 is right, and beside the point here.
    if (message.text().startsWith("[Electric] Using HTTP (not HTTPS)")) return;
    if (message.type() === "error" || message.type() === "warning")
      messages.push(message.text());
  });
  page.on("pageerror", (error) => messages.push(error.message));
  return messages;
}

async function open(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(stack.url);
  await page.locator("main[data-hydrated=true]").waitFor();
  return page;
}

async function add(page: Page, title: string): Promise<void> {
  await page.getByLabel("title").fill(title);
  await page.getByRole("button", { name: "Add" }).click();
}

const item = (page: Page, title: string) =>
  page.locator("li", { hasText: title });

describe("in Chromium", () => {
  it("a server-rendered page hydrates from its rows without a warning and then follows the shape", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const messages = consoleOf(page);
    const response = await page.goto(stack.url);
    expect(await response?.text()).toContain("Rendered on the server");
    await page.locator("main[data-hydrated=true]").waitFor();
    await expect
      .poll(() => page.getByTestId("connection").textContent())
      .toBe("synced");
    expect(messages).toEqual([]);
    await context.close();
  });

  it("the outbox survives a reload while the api is down, then syncs with the same id", async () => {
    const context = await browser.newContext();
    const page = await open(context);
    stack.setApiDown(true);
    await add(page, "Written offline");
    await expect
      .poll(() => item(page, "Written offline").getAttribute("data-pending"))
      .toBe("true");
    await expect
      .poll(() => page.getByTestId("connection").textContent())
      .toBe("offline");

    await page.reload();
    await page.locator("main[data-hydrated=true]").waitFor();
    // Restored from IndexedDB: still shown, still pending, not lost.
    await expect
      .poll(() => item(page, "Written offline").getAttribute("data-pending"))
      .toBe("true");
    expect(await stack.titles()).not.toContain("Written offline");

    const before = stack.handledWrites.length;
    stack.setApiDown(false);
    await expect
      .poll(() => item(page, "Written offline").getAttribute("data-pending"), {
        timeout: 15_000,
      })
      .toBe("false");
    expect(await stack.titles()).toContain("Written offline");
    expect(stack.handledWrites.slice(before)).toHaveLength(1);
    await context.close();
  });

  it("two tabs show each other's pending writes at once and one of them sends each write once", async () => {
    const context = await browser.newContext();
    const [first, second] = [await open(context), await open(context)];
    stack.setApiDown(true);
    await add(first, "From the first tab");
    await expect
      .poll(() =>
        item(second, "From the first tab").getAttribute("data-pending"),
      )
      .toBe("true");
    await add(second, "From the second tab");
    await expect
      .poll(() =>
        item(first, "From the second tab").getAttribute("data-pending"),
      )
      .toBe("true");

    const before = stack.handledWrites.length;
    stack.setApiDown(false);
    for (const page of [first, second])
      for (const title of ["From the first tab", "From the second tab"])
        await expect
          .poll(() => item(page, title).getAttribute("data-pending"), {
            timeout: 15_000,
          })
          .toBe("false");
    const handled = stack.handledWrites.slice(before);
    expect(handled).toHaveLength(2);
    expect(new Set(handled).size).toBe(2);
    expect(await stack.titles()).toEqual(
      expect.arrayContaining(["From the first tab", "From the second tab"]),
    );
    await context.close();
  });
});
