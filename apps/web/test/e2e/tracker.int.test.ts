/**
 * The product app end to end in Chromium, against the production build (`next build`, its
 * standalone server behind an HTTP/2 TLS front, as production is served), the kit's sync
 * server and PostgreSQL: two people in two browser profiles. Screenshots of the main screens go
 * to test/e2e/artifacts/ (gitignored).
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { waitFor } from "@repo/test-support";

import type { SignedInUser } from "./support/browser";
import type { WebStack } from "./support/web-stack";
import {
  launchBrowser,
  screenshot,
  signIn,
  watchLiveShapes,
} from "./support/browser";
import { startWebStack } from "./support/web-stack";

const PASSWORD = "correct horse battery";
const ALICE = {
  name: "Alice Martin",
  email: "alice@example.com",
  password: PASSWORD,
};
const BOB = { name: "Bob Chen", email: "bob@example.com", password: PASSWORD };

let stack: WebStack;
let browser: Browser;
/** What beforeAll started, stopped in reverse order (also when it failed half-way). */
const started: (() => Promise<void>)[] = [];
let alice: SignedInUser;
let bob: SignedInUser;
/** Alice's live shape requests, watched from the start (a long-poll lasts 20 s). */
let projectId: string;

beforeAll(async () => {
  browser = await launchBrowser();
  started.push(() => browser.close());
  stack = await startWebStack({ http2: true });
  started.push(() => stack.stop());
  await stack.signUp(ALICE);
  await stack.signUp(BOB);
  alice = await signIn({
    browser,
    url: stack.url,
    ...ALICE,
    screenshot: "sign-in",
  });
  bob = await signIn({
    browser,
    url: stack.url,
    ...BOB,
  });
}, 600_000);

// What the screens looked like when a test failed, for the person reading the failure.
afterEach(async ({ task }) => {
  if (task.result?.state !== "fail") return;
  const name = task.name.replace(/\W+/g, "-").slice(0, 60);
  await screenshot(alice.page, `failed-${name}-alice`);
  await screenshot(bob.page, `failed-${name}-bob`);
  console.log(`the server printed:\n${stack.output().slice(-4_000)}`);
});

afterAll(async () => {
  for (const stop of started.reverse()) await stop();
}, 60_000);

/**
 * How long a change may take to show in the other browser, live (no reload): well above what
 * it takes (the timed test below measures that), as CI runs this beside another test file on
 * two cores.
 */
const LIVE_MS = 10_000;

const issueRow = (page: Page, title: string) =>
  page
    .getByRole("listitem")
    .filter({ has: page.getByRole("link", { name: title, exact: true }) });

/**
 * Times are taken in the pages (one machine, one clock), so they measure the app, not how
 * often the test polls: the moment of the next click in `page`…
 */
async function armClick(page: Page): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    document.addEventListener(
      "click",
      () => document.body.setAttribute("data-clicked-at", String(Date.now())),
      { capture: true, once: true },
    );
  });
  return async () =>
    Number(await page.locator("body").getAttribute("data-clicked-at"));
}

/** …and the moment an element matching `selector` (holding `text`) shows in `page`. */
function whenShown(page: Page, selector: string, text = ""): Promise<number> {
  return page.evaluate(
    ([selector, text]) =>
      new Promise<number>((resolve) => {
        const found = () =>
          [...document.querySelectorAll(selector)].some((element) =>
            element.textContent.includes(text),
          );
        if (found()) return resolve(Date.now());
        const observer = new MutationObserver(() => {
          if (!found()) return;
          observer.disconnect();
          resolve(Date.now());
        });
        observer.observe(document.body, {
          subtree: true,
          childList: true,
          characterData: true,
          attributes: true,
        });
      }),
    [selector, text] as const,
  );
}

async function userId(email: string): Promise<string> {
  const [row] = await stack.query<{ id: string }>(
    "SELECT id::text AS id FROM users WHERE email = $1",
    [email],
  );
  if (!row) throw new Error(`no user ${email}`);
  return row.id;
}

/** Types at the end of the issue's description once its editor is live. */
async function typeInDescription(
  page: Page,
  text: string,
  options: { delay?: number } = {},
): Promise<void> {
  const editor = page.locator("section[aria-label=Description] .cm-content");
  await editor.waitFor({ timeout: 10_000 });
  await editor.click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type(text, options);
}

/** The shapes the sync server holds live requests of for a user's session (diagnostics). */
async function liveShapesOf({ context }: SignedInUser): Promise<unknown> {
  const session = (await context.cookies()).find((cookie) =>
    cookie.name.endsWith("session_token"),
  )?.value;
  return session
    ? (await stack.liveShapes(session, 1_000)).shapes
    : "no session";
}

/** `waiting`, or its failure with the presence rows of the moment added to the message. */
async function withPresenceRows<T>(waiting: Promise<T>): Promise<T> {
  try {
    return await waiting;
  } catch (error) {
    const rows = await stack.query(
      `SELECT u.name, p.client_id, p.state->'cursor' <> 'null'::jsonb AS has_cursor,
              round(extract(epoch FROM p.expires_at - now()), 1) AS lease_left_s,
              round(extract(epoch FROM now() - p.updated_at), 1) AS age_s
         FROM presence p JOIN users u ON u.id = p.user_id ORDER BY u.name`,
    );
    const followed = await Promise.all([alice, bob].map(liveShapesOf));
    throw new Error(
      [
        String(error),
        `presence rows now: ${JSON.stringify(rows)}`,
        `live shapes of A: ${JSON.stringify(followed[0])}`,
        `live shapes of B: ${JSON.stringify(followed[1])}`,
        `A's page logged: ${JSON.stringify(alice.problems)}`,
        `B's page logged: ${JSON.stringify(bob.problems)}`,
      ].join("\n"),
      { cause: error },
    );
  }
}

/**
 * `waiting`, or its failure with what the page's runtime and the database say at that moment:
 * whether the write was sent (status), committed (its rows), and who holds the tab lock.
 */
async function withSyncState<T>(page: Page, waiting: Promise<T>): Promise<T> {
  try {
    return await waiting;
  } catch (error) {
    const status = await page
      .getByTestId("sync-status")
      .evaluate((element) => ({ ...(element as HTMLElement).dataset }))
      .catch((reason: unknown) => String(reason));
    const locks = await page
      .evaluate(() => navigator.locks.query())
      .catch((reason: unknown) => String(reason));
    const log = await stack.query(
      `SELECT name, mutation_id, outcome, txid, created_at FROM mutation_log
        ORDER BY created_at DESC LIMIT 5`,
    );
    throw new Error(
      [
        String(error),
        `sync status: ${JSON.stringify(status)}`,
        `web locks: ${JSON.stringify(locks)}`,
        `latest mutations: ${JSON.stringify(log)}`,
        `live shapes: ${JSON.stringify(await liveShapesOf(alice))}`,
        `the page logged: ${JSON.stringify(alice.problems.slice(-20))}`,
      ].join("\n"),
      { cause: error },
    );
  }
}

async function openProject(page: Page): Promise<void> {
  await page.goto(`${stack.url}/projects/${projectId}`);
  await page
    .getByRole("list", { name: "Issues" })
    .or(page.getByText("No open issues"))
    .waitFor();
}

// Two browsers and a production server on two shared cores: generous, but bounded.
describe("the tracker in two browsers", { timeout: 60_000 }, () => {
  it("a project A creates and shares with B appears in B's list without a reload", async () => {
    const { page } = alice;
    await page.getByRole("button", { name: "New project" }).click();
    await page.getByLabel("Name").fill("Mobile app");
    await page
      .getByLabel("Description")
      .fill("The iOS and Android apps: releases, crashes and feedback.");
    await page.getByRole("button", { name: "Create project" }).click();
    const card = page.getByRole("link", { name: /Mobile app/ });
    await card.waitFor();
    await screenshot(page, "project-list");
    const [row] = await stack.query<{ id: string }>(
      "SELECT id::text AS id FROM projects WHERE name = 'Mobile app'",
    );
    projectId = row?.id ?? "";

    await card.click();
    await page.getByRole("link", { name: /Members/ }).click();
    await page.getByLabel("Email").fill(BOB.email);
    await page.getByRole("button", { name: "Add to project" }).click();
    await page
      .getByTestId("member")
      .filter({ hasText: BOB.name })
      .and(page.locator(":not([data-pending])"))
      .waitFor();
    await screenshot(page, "members");

    await bob.page
      .getByRole("link", { name: /Mobile app/ })
      .waitFor({ timeout: LIVE_MS });
  });

  it("an issue A creates and edits shows for B within a second", async () => {
    await Promise.all([openProject(alice.page), openProject(bob.page)]);
    // Measured from a settled page: every shape up to date, the last page's streams gone.
    for (const { page } of [alice, bob])
      await page
        .locator("[data-testid=sync-status][data-connection=synced]")
        .waitFor();
    const { page } = alice;
    await page.getByRole("button", { name: "New issue" }).click();
    await page
      .getByLabel("Title", { exact: true })
      .fill("Crash when opening settings offline");
    const created = await armClick(page);
    const seen = whenShown(bob.page, "li[data-issue-id]", "Crash when opening");
    await page.getByRole("button", { name: "Create issue" }).click();
    const seenAfter = (await seen) - (await created());

    await issueRow(page, "Crash when opening settings offline")
      .getByTestId("status-menu")
      .click();
    const edited = await armClick(page);
    const editSeen = whenShown(
      bob.page,
      'li[data-issue-id] [aria-label="Status: In progress"]',
    );
    await page.getByRole("menuitemradio", { name: "In progress" }).click();
    const editSeenAfter = (await editSeen) - (await edited());

    for (const title of [
      "Dark mode for the settings screen",
      "Push notifications arrive twice",
    ]) {
      await page.keyboard.press("c");
      await page.getByLabel("Title", { exact: true }).fill(title);
      await page.getByRole("button", { name: "Create issue" }).click();
      await issueRow(page, title).waitFor();
    }
    await screenshot(page, "issue-list");
    console.log(
      `B saw A's new issue after ${seenAfter} ms, A's edit after ${editSeenAfter} ms`,
    );
    expect(seenAfter).toBeLessThan(1_000);
    expect(editSeenAfter).toBeLessThan(1_000);
  });

  it("the issue page edits the description and comments, and B sees them live", async () => {
    const title = "Crash when opening settings offline";
    await alice.page.getByRole("link", { name: title, exact: true }).click();
    await bob.page.getByRole("link", { name: title, exact: true }).click();
    const { page } = alice;
    await typeInDescription(
      page,
      "Steps: turn on airplane mode, open Settings. The app closes at once.",
    );
    await page.keyboard.press("Enter");
    await page.keyboard.type("Seen on Android 15.");
    await page
      .getByLabel("New comment")
      .fill("I can reproduce this on a Pixel 8.");
    await page.getByRole("button", { name: "Comment" }).click();
    await bob.page
      .getByTestId("comment")
      .filter({ hasText: "Pixel 8" })
      .waitFor({ timeout: LIVE_MS });
    await bob.page
      .getByText("Seen on Android 15.")
      .waitFor({ timeout: LIVE_MS });

    await bob.page.getByLabel("New comment").fill("Same here on a Galaxy S24.");
    await bob.page.getByRole("button", { name: "Comment" }).click();
    const bobsComment = page
      .getByTestId("comment")
      .filter({ hasText: "Galaxy" });
    await bobsComment.waitFor({ timeout: LIVE_MS });
    // Not A's comment: no actions for A (a member, not a manager… but A owns the project).
    const mine = page.getByTestId("comment").filter({ hasText: "Pixel 8" });
    await mine.getByRole("button", { name: "Comment actions" }).click();
    await page.getByRole("menuitem", { name: "Edit" }).click();
    await page
      .getByLabel("Edit comment")
      .fill("I can reproduce this on a Pixel 8 and a Pixel 6.");
    await page.getByRole("button", { name: "Save" }).click();
    await bob.page.getByText("a Pixel 6.").waitFor({ timeout: LIVE_MS });
    await screenshot(page, "issue-detail");
  });

  it("A and B typing in the description at once both end with the same merged text, which the server stores", async () => {
    const words = {
      alice: " Alice adds: also on iOS 18.",
      bob: " Bob adds: crash log attached.",
    };
    await Promise.all([
      typeInDescription(alice.page, words.alice, { delay: 40 }),
      typeInDescription(bob.page, words.bob, { delay: 40 }),
    ]);
    const texts = await Promise.all(
      [alice.page, bob.page].map((page) =>
        page.waitForFunction(
          ([a, b]) => {
            const text = descriptionText();
            return text.includes(a) && text.includes(b) && text;
            function descriptionText(): string {
              const lines = document.querySelectorAll(
                "section[aria-label=Description] .cm-line",
              );
              // Remote carets are widgets inside the lines: their names are not text.
              return [...lines]
                .map((line) => {
                  const copy = line.cloneNode(true) as Element;
                  for (const widget of copy.querySelectorAll(
                    ".cm-ySelectionCaret, .cm-widgetBuffer",
                  ))
                    widget.remove();
                  return copy.textContent;
                })
                .join("\n");
            }
          },
          [words.alice, words.bob] as const,
          { timeout: 10_000 },
        ),
      ),
    );
    const [aliceText, bobText] = await Promise.all(
      texts.map((text) => text.jsonValue()),
    );
    expect(aliceText).toBe(bobText);
    // Each sees the other's caret, labelled with their name, and who else is here. A miss
    // says what the presence table held then (a flake once: B saw nothing of A).
    await withPresenceRows(
      Promise.all([
        alice.page
          .locator(".cm-ySelectionInfo", { hasText: BOB.name })
          .waitFor({ state: "attached", timeout: LIVE_MS }),
        bob.page
          .locator(".cm-ySelectionInfo", { hasText: ALICE.name })
          .waitFor({ state: "attached", timeout: LIVE_MS }),
        alice.page
          .getByRole("list", { name: "Also editing" })
          .getByText(BOB.name)
          .waitFor({ timeout: LIVE_MS }),
      ]),
    );
    await screenshot(alice.page, "issue-collab");

    // The issue page's live streams: what holds a connection each on plain HTTP/1.1 (six per
    // server, and writes need one too). Counted in a new tab of A's profile watched from its
    // first request: the network log of a page that navigated keeps requests it never saw end.
    const tab = await alice.page.context().newPage();
    const tabShapes = await watchLiveShapes(tab);
    // Over HTTP/2 the editor also follows the api's relay of committed edits (/api/docs/follow).
    const relay = tab.waitForResponse(
      (response) => new URL(response.url()).pathname === "/api/docs/follow",
    );
    await tab.goto(alice.page.url());
    const relayed = await relay;
    expect(relayed.status()).toBe(200);
    expect(relayed.headers()["content-type"]).toContain("text/event-stream");
    await tab
      .locator("section[aria-label=Description] .cm-content", {
        hasText: words.bob.trim(),
      })
      .waitFor({ timeout: 10_000 });
    const live = await tabShapes.during(2_000);
    await tab.close();
    console.log(
      `live shapes on the issue page (at most ${live.mostOpen} open at once): ${live.shapes.join(", ")}`,
    );
    expect(live.mostOpen).toBeLessThanOrEqual(5);

    // Compaction folds the log into the column (every ≤ 10 s + 1 s): the projection that
    // lists, search and the server render read is the same merged text.
    const issueId = new URL(alice.page.url()).pathname.split("/").at(-1);
    await waitFor(
      async () => {
        const [row] = await stack.query<{ description: string }>(
          "SELECT description FROM issues WHERE id = $1::uuid",
          [issueId],
        );
        return row?.description === aliceText;
      },
      { timeoutMs: 30_000, intervalMs: 250, describe: () => String(aliceText) },
    );

    // The relay delivers through the app (its route handler behind the HTTP/2 front): Bob's
    // next keystroke reaches an EventSource on A's session as an event.
    const watcher = await alice.page.context().newPage();
    await watcher.goto(alice.page.url());
    await watcher.evaluate(async (url) => {
      const page = window as unknown as { relayed: string[] };
      page.relayed = [];
      const source = new EventSource(url);
      source.onmessage = (event: MessageEvent<string>) =>
        page.relayed.push(event.data);
      await new Promise((resolve) => (source.onopen = resolve));
    }, `/api/docs/follow?field=issues.description&row=${issueId}`);
    await typeInDescription(bob.page, "!");
    const relayedUpdate = await watcher.waitForFunction(
      () => (window as unknown as { relayed: string[] }).relayed[0],
      undefined,
      { timeout: 10_000 },
    );
    const event = JSON.parse(String(await relayedUpdate.jsonValue())) as {
      update?: unknown;
    };
    expect(typeof event.update).toBe("string");
    await watcher.close();
  });

  it("B does not see a project it is not a member of, not even by its address", async () => {
    const { page } = alice;
    await page.goto(`${stack.url}/projects`);
    await page.getByRole("button", { name: "New project" }).click();
    await page.getByLabel("Name").fill("Payroll");
    await page.getByRole("button", { name: "Create project" }).click();
    await page.getByRole("link", { name: /Payroll/ }).waitFor();
    const [payroll] = await stack.query<{ id: string }>(
      "SELECT id::text AS id FROM projects WHERE name = 'Payroll'",
    );

    await bob.page.goto(`${stack.url}/projects`);
    await bob.page.getByRole("link", { name: /Mobile app/ }).waitFor();
    expect(await bob.page.getByRole("link", { name: /Payroll/ }).count()).toBe(
      0,
    );
    // Its address answers what a project that does not exist answers: 404, and nothing of it.
    for (const path of ["", "/members", `/issues/${payroll?.id ?? ""}`]) {
      const response = await bob.page.goto(
        `${stack.url}/projects/${payroll?.id ?? ""}${path}`,
      );
      expect(response?.status()).toBe(404);
      await bob.page.getByRole("heading", { name: "Not found" }).waitFor();
      expect(await bob.page.getByText("Payroll").count()).toBe(0);
    }
  });

  it("an issue created offline survives a reload and is written exactly once", async () => {
    const { context, page } = alice;
    await openProject(page);
    await context.setOffline(true);
    await page.getByRole("button", { name: "New issue" }).click();
    await page
      .getByLabel("Title", { exact: true })
      .fill("Written while offline");
    await page.getByRole("button", { name: "Create issue" }).click();
    await page
      .locator("li[data-pending]", { hasText: "Written while offline" })
      .waitFor();
    await page
      .locator("[data-testid=sync-status][data-connection=offline]")
      .waitFor({ timeout: 15_000 });
    // The plain-Electric panel beside the list cannot follow its comments now, and says so.
    await page.getByTestId("recent-comments-offline").waitFor();
    await screenshot(page, "offline");

    // Back on the network, but the api still unreachable: the page reloads with the write
    // still queued (IndexedDB), and shows it pending.
    await context.route("**/api/trpc/**", (route) => route.abort());
    await context.setOffline(false);
    await page.reload();
    await page
      .locator("li[data-pending]", { hasText: "Written while offline" })
      .waitFor();
    await context.unroute("**/api/trpc/**");

    // The retry after the api came back (backoff ≤ 5 s), then its txid: over HTTP/2 the write
    // never queues behind the page's live shapes for a connection. A send stalled on a dead
    // connection is given up after 10 s and sent again.
    await withSyncState(
      page,
      issueRow(page, "Written while offline")
        .and(page.locator(":not([data-pending])"))
        .waitFor({ timeout: 30_000 }),
    );
    await page.locator('[data-testid=sync-status][data-pending="0"]').waitFor();
    await openProject(bob.page);
    await issueRow(bob.page, "Written while offline").waitFor({
      timeout: LIVE_MS,
    });
    const rows = await stack.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM issues WHERE title = 'Written while offline'",
    );
    expect(rows[0]?.n).toBe("1");
    const logged = await stack.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM mutation_log
        WHERE name = 'issues.create' AND user_id = $1::uuid AND outcome = 'ok'
          AND result::text LIKE '%Written while offline%'`,
      [await userId(ALICE.email)],
    );
    expect(logged[0]?.n).toBe("1");
  });

  it("a write the server refuses is rolled back in view with the server's message", async () => {
    const { page } = bob;
    await openProject(page);
    const row = issueRow(page, "Dark mode for the settings screen");
    await row.getByRole("button", { name: "Priority: No priority" }).waitFor();
    // Bob loses the right to edit while his write is on its way: the server refuses it.
    const bobId = await userId(BOB.email);
    await page.route("**/api/trpc/**", async (route) => {
      await stack.query(
        "UPDATE project_members SET role = 'viewer' WHERE user_id = $1::uuid",
        [bobId],
      );
      await route.continue();
    });
    await row.getByTestId("priority-menu").click();
    await page.getByRole("menuitemradio", { name: "Urgent" }).click();
    const toast = page.getByTestId("failed-write");
    await toast.waitFor({ timeout: 10_000 });
    expect(await toast.textContent()).toMatch(
      /Couldn't update the issue.*viewer cannot/,
    );
    await row.getByRole("button", { name: "Priority: No priority" }).waitFor();
    // The new role reaches the page live too (the screenshot showed "You: Member" beside the
    // viewer's refusal when taken the moment the toast came).
    await page.getByText("You: Viewer").waitFor({ timeout: LIVE_MS });
    await screenshot(page, "rejected-write");
    await page.unroute("**/api/trpc/**");
  });

  it("a viewer reads the live description but cannot type in it", async () => {
    // Bob is a viewer since the last test.
    const { page } = bob;
    const title = "Crash when opening settings offline";
    await openProject(alice.page);
    for (const user of [alice.page, page])
      await user
        .getByRole("list", { name: "Issues" })
        .getByRole("link", { name: title, exact: true })
        .click();
    const editor = page.locator("section[aria-label=Description] .cm-content");
    await editor.waitFor({ timeout: 10_000 });
    expect(await editor.getAttribute("contenteditable")).toBe("false");
    expect(await editor.getAttribute("aria-readonly")).toBe("true");
    await typeInDescription(alice.page, " Fixed in 2.4.1.");
    await page.getByText("Fixed in 2.4.1.").waitFor({ timeout: LIVE_MS });
  });

  it("going back and forth between the project page and an issue page leaves no live stream behind", async () => {
    const { page, context } = alice;
    const session = (await context.cookies()).find((cookie) =>
      cookie.name.endsWith("session_token"),
    )?.value;
    if (!session) throw new Error("Alice has no session cookie");
    /**
     * Most live shape requests open at once, counted by the front (where each is seen to end),
     * once the page left has stopped its streams (1 s after unmount, useStreamSignal): a
     * window of 1.5 s within `budget`. A stream left open is polled again at once, so it shows
     * in every window.
     */
    const settlesWithin = async (budget: number) => {
      let last = { mostOpen: 0, shapes: [] as string[] };
      await waitFor(
        async () => {
          last = await stack.liveShapes(session, 1_500);
          return last.mostOpen <= budget;
        },
        {
          timeoutMs: 15_000,
          intervalMs: 0,
          describe: () =>
            `${last.mostOpen} open at once, over ${budget}: ${last.shapes.join(", ")}`,
        },
      );
      return last.mostOpen;
    };
    const title = "Crash when opening settings offline";
    await openProject(page);
    const counts: string[] = [];
    for (let round = 0; round < 3; round++) {
      await page
        .getByRole("list", { name: "Issues" })
        .getByRole("link", { name: title, exact: true })
        .click();
      await page
        .locator("section[aria-label=Description] .cm-content")
        .waitFor({ timeout: 10_000 });
      const onIssue = await settlesWithin(5);
      // Back by the project's Issues tab (a client-side link) and by the back button.
      if (round % 2 === 0)
        await page.getByRole("link", { name: "Issues", exact: true }).click();
      else await page.goBack();
      await page.getByRole("list", { name: "Issues" }).waitFor();
      counts.push(`${onIssue} → ${await settlesWithin(3)}`);
    }
    console.log(
      `live shapes open at once, issue page → project page, three rounds: ${counts.join(", ")}`,
    );

    // Back at once, within the moment the feed that went keeps its stream: the panel that
    // shows again must stay live after that moment (the one that went once stopped its stream).
    await page
      .getByRole("list", { name: "Issues" })
      .getByRole("link", { name: title, exact: true })
      .click();
    await page.waitForURL((url) => url.pathname.includes("/issues/"));
    await page.goBack();
    await page.getByRole("list", { name: "Issues" }).waitFor();
    await settlesWithin(3);
    const issueId = new URL(
      (await page
        .getByRole("list", { name: "Issues" })
        .getByRole("link", { name: title, exact: true })
        .getAttribute("href")) ?? "",
      stack.url,
    ).pathname
      .split("/")
      .at(-1);
    await stack.query(
      `INSERT INTO comments (id, project_id, issue_id, author_id, body)
       VALUES (gen_random_uuid(), $1::uuid, $2::uuid, $3::uuid, 'Written after a quick return')`,
      [projectId, issueId, await userId(ALICE.email)],
    );
    // Only the recent comments panel shows comments on the project page.
    await page
      .getByText("Written after a quick return")
      .waitFor({ timeout: 10_000 });
  });

  it("no page logged an error or a hydration warning, and no server render failed", () => {
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
    // Next prints a failed server render with ⨯ and recovers in the browser, which the
    // pages' logs above do not show ('window is not defined' in the issue page's render did).
    expect(stack.output()).not.toContain("⨯");
  });
});
