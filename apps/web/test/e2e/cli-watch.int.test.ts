/**
 * The CLI beside the browser, on the production build (`next build` + `next start`, the kit's
 * sync server, PostgreSQL): `tracker watch` signed in to the web app with its own `login`
 * prints, live, what a person does in Chromium. The CLI runs as a real process with its own
 * config directory; every process is stopped by its PID.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";

import { repoRoot, waitFor } from "@repo/test-support";

import type { SignedInUser } from "./support/browser";
import type { WebStack } from "./support/web-stack";
import { launchBrowser, signIn } from "./support/browser";
import { cleanEnv } from "./support/next-build";
import { startWebStack } from "./support/web-stack";

const USER = {
  name: "Dana Lee",
  email: "dana@example.com",
  password: "correct horse battery",
};

/** A `tracker` process with the test's config directory; stdout lines timed as they come. */
function tracker(configDir: string, args: string[], stdin = "") {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "src/main.ts", ...args],
    {
      cwd: join(repoRoot, "apps/cli"),
      env: {
        ...cleanEnv(),
        // The CLI reads none of it; Next's types of the environment require it.
        NODE_ENV: "production",
        TRACKER_CONFIG_DIR: configDir,
      },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  child.stdin?.end(stdin);
  const lines: { text: string; at: number }[] = [];
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    for (const text of chunk.toString().split("\n"))
      if (text !== "") lines.push({ text, at: Date.now() });
  });
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code: number | null) => resolve(code)),
  );
  return {
    lines,
    stderr: () => stderr,
    stdout: () => lines.map((line) => line.text).join("\n"),
    exited,
    /** SIGINT (Ctrl-C) to this process; its exit code. */
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null)
        child.kill("SIGINT");
      return exited;
    },
  };
}

async function runTracker(configDir: string, args: string[], stdin = "") {
  const run = tracker(configDir, args, stdin);
  const code = await run.exited;
  expect(code, `tracker ${args.join(" ")}:\n${run.stderr()}`).toBe(0);
  return run.stdout();
}

let stack: WebStack;
let browser: Browser;
let person: SignedInUser;
let configDir: string;
/** What beforeAll started, stopped in reverse order (also when it failed half-way). */
const started: (() => Promise<void>)[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  started.push(() => browser.close());
  stack = await startWebStack();
  started.push(() => stack.stop());
  await stack.signUp(USER);
  person = await signIn({ browser, url: stack.url, ...USER });
  configDir = await mkdtemp(join(tmpdir(), "tracker-e2e-"));
  started.push(() => rm(configDir, { recursive: true, force: true }));
  await runTracker(
    configDir,
    ["--url", stack.url, "login", "--email", USER.email, "--password-stdin"],
    `${USER.password}\n`,
  );
}, 600_000);

afterAll(async () => {
  for (const stop of started.reverse()) await stop();
}, 60_000);

it(
  "tracker watch prints an edit and a new issue made in the browser within seconds",
  {
    timeout: 120_000,
  },
  async () => {
    const { project } = JSON.parse(
      await runTracker(configDir, [
        "--json",
        "projects",
        "create",
        "--name",
        "Field app",
      ]),
    ) as { project: { id: string } };
    const { id: issueId } = JSON.parse(
      await runTracker(configDir, [
        "--json",
        "issues",
        "create",
        "-p",
        project.id,
        "-t",
        "Sync stalls on hotel wifi",
      ]),
    ) as { id: string };

    const watching = tracker(configDir, ["watch", "-p", project.id]);
    try {
      await waitFor(() => watching.stderr().includes("watching 1 issues"), {
        timeoutMs: 30_000,
        describe: () => `watch to start:\n${watching.stderr()}`,
      });
      /** The moment the CLI printed a line containing `text`, after `since`. */
      const printed = async (text: string, since: number) => {
        await waitFor(() => watching.lines.some((l) => l.text.includes(text)), {
          timeoutMs: 10_000,
          describe: () =>
            `"${text}" from watch; it printed:\n${watching.stdout()}`,
        });
        const line = watching.lines.find((l) => l.text.includes(text));
        return (line?.at ?? NaN) - since;
      };

      const { page } = person;
      await page.goto(`${stack.url}/projects/${project.id}`);
      await page
        .locator(`li[data-issue-id="${issueId}"]`)
        .getByTestId("status-menu")
        .click();
      const editedAt = Date.now();
      await page.getByRole("menuitemradio", { name: "In progress" }).click();
      const editAfter = await printed(
        `update  ${issueId}  "Sync stalls on hotel wifi"  status: backlog → in_progress`,
        editedAt,
      );

      await page.getByRole("button", { name: "New issue" }).click();
      await page
        .getByLabel("Title", { exact: true })
        .fill("Export the backlog as CSV");
      const createdAt = Date.now();
      await page.getByRole("button", { name: "Create issue" }).click();
      const createAfter = await printed(
        `"Export the backlog as CSV" [todo, none]`,
        createdAt,
      );
      const [created] = await stack.query<{ id: string }>(
        "SELECT id::text AS id FROM issues WHERE title = 'Export the backlog as CSV'",
      );
      expect(watching.stdout()).toContain(`insert  ${created?.id}  "Export`);

      console.log(
        `watch printed the browser's edit after ${editAfter} ms, its new issue after ${createAfter} ms`,
      );
      expect(editAfter).toBeLessThan(5_000);
      expect(createAfter).toBeLessThan(5_000);
    } finally {
      // Ctrl-C ends a watch normally.
      expect(await watching.stop()).toBe(0);
    }
  },
);
