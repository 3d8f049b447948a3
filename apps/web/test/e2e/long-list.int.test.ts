/**
 * A project of 5,000 issues (4,000 open) in Chromium, against the production build: the issue
 * list renders only the rows near the viewport (rendered whole, each keystroke in the filter
 * took 0.8 s at the median: see bench/README.md, "Product app"), and what that must not cost:
 * every row reachable by scrolling, by the keyboard and by the filter.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { WebStack } from "./support/web-stack";
import { benchIssues, expectedRows, seedProject } from "../../bench/seed";
import { launchBrowser, signIn } from "./support/browser";
import { startWebStack } from "./support/web-stack";

const USER = {
  name: "Erin Park",
  email: "erin@example.com",
  password: "correct horse battery",
};
const issues = benchIssues(5_000);
const OPEN = expectedRows(issues, "");

let stack: WebStack;
let browser: Browser;
let page: Page;
/** What beforeAll started, stopped in reverse order (also when it failed half-way). */
const started: (() => Promise<void>)[] = [];

const rows = (page: Page) => page.locator("ul[aria-label=Issues] > li");

beforeAll(async () => {
  browser = await launchBrowser();
  started.push(() => browser.close());
  stack = await startWebStack({ http2: true });
  started.push(() => stack.stop());
  await stack.signUp(USER);
  const [owner] = await stack.query<{ id: string }>(
    "SELECT id::text AS id FROM users WHERE email = $1",
    [USER.email],
  );
  const projectId = await seedProject(stack, {
    ownerId: owner?.id ?? "",
    name: "Big backlog",
    issues,
  });
  ({ page } = await signIn({ browser, url: stack.url, ...USER }));
  await page.goto(`${stack.url}/projects/${projectId}`);
  await page.getByText(`${OPEN} issues`).waitFor();
}, 600_000);

afterAll(async () => {
  for (const stop of started.reverse()) await stop();
}, 60_000);

describe("a project of 5,000 issues", { timeout: 60_000 }, () => {
  it("the list keeps only the rows near the viewport in the page", async () => {
    expect(OPEN).toBe(4_000);
    const count = await rows(page).count();
    expect(count).toBeGreaterThan(10);
    expect(count).toBeLessThanOrEqual(100);
    await expect
      .poll(() => rows(page).first().getAttribute("aria-setsize"))
      .toBe(String(OPEN));
  });

  it("scrolling to the end shows the last open issue", async () => {
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const last = page.locator(`li[aria-posinset="${OPEN}"]`);
    await last.waitFor();
    // The last open issue by sort key: #4998 (#4999 and #5000 are done and canceled).
    await expect.poll(() => last.textContent()).toContain("(#4998)");
    expect(await last.isVisible()).toBe(true);
    expect(await rows(page).count()).toBeLessThanOrEqual(100);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it("j moves the selection past the rendered rows and keeps it in view", async () => {
    // The list's keys are read while no field has focus.
    await page.evaluate(() => (document.activeElement as HTMLElement).blur());
    for (let i = 0; i < 80; i++) await page.keyboard.press("j");
    const selected = page.locator("li[aria-current]");
    await expect.poll(() => selected.getAttribute("aria-posinset")).toBe("80");
    await expect.poll(() => selected.isVisible()).toBe(true);
    const box = await selected.boundingBox();
    expect(box?.y).toBeGreaterThan(0);
    expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(800);
  });

  it("the filter finds an issue far down the list", async () => {
    await page.getByLabel("Search issue titles").fill("#4998)");
    await page.getByText("1 issue ·").waitFor();
    expect(await rows(page).count()).toBe(1);
    expect(await rows(page).textContent()).toContain("(#4998)");
  });
});
