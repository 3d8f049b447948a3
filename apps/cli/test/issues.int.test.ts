/**
 * `issues create|update` as a user runs them: a real process, through the shared mutations and
 * the client runtime to the api, checked in the database.
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";

import { fileOutbox } from "@repo/sync/node";

import type { Cli } from "./support/stack";
import { outboxPath } from "../src/config";
import { cliTest as test } from "./support/stack";

/** The writes the CLI's outbox file holds for the next run, read as the next run reads them. */
async function queued(cli: Cli): Promise<unknown[]> {
  return (await fileOutbox(outboxPath(cli.configDir, cli.session)).load())
    .entries;
}

test("create and update write the shared mutations' rows, as the session's user", async ({
  stack,
  db,
}) => {
  const { cli, projectId } = stack;
  const created = await cli.run([
    "--json",
    "issues",
    "create",
    "--project",
    projectId,
    "--title",
    "  Footer links are broken  ",
    "--priority",
    "high",
  ]);
  expect(created.stderr).toBe("");
  expect(created.code).toBe(0);
  const { id } = JSON.parse(created.stdout) as { id: string };
  const row = await db.issue.findUniqueOrThrow({ where: { id } });
  // The schema's trim, the create's defaults and the creator come from the shared definitions.
  expect(row).toMatchObject({
    projectId,
    title: "Footer links are broken",
    priority: "high",
    status: "backlog",
    creatorId: cli.session.user.id,
    completedAt: null,
  });

  const updated = await cli.run(["issues", "update", id, "--status", "done"]);
  expect(updated).toMatchObject({ code: 0, stdout: `updated issue ${id}\n` });
  const done = await db.issue.findUniqueOrThrow({ where: { id } });
  expect(done.status).toBe("done");
  // issueChanges (shared by reducer and server) sets completed_at when an issue becomes done.
  expect(done.completedAt).toEqual(done.updatedAt);
});

test("an invalid input is refused by the mutation's zod schema before any request", async ({
  stack,
}) => {
  const { cli, projectId } = stack;
  const before = stack.web.apiRequests();
  const badPriority = await cli.run([
    "issues",
    "update",
    randomUUID(),
    "--priority",
    "urgentish",
  ]);
  expect(badPriority.code).toBe(2);
  expect(badPriority.stderr).toMatch(/invalid input \(nothing was sent\)/);
  expect(badPriority.stderr).toMatch(
    /--priority: Invalid option: expected one of/,
  );
  const emptyTitle = await cli.run([
    "issues",
    "create",
    "--project",
    projectId,
    "--title",
    "   ",
  ]);
  expect(emptyTitle.code).toBe(2);
  expect(emptyTitle.stderr).toMatch(/--title: Too small/);
  expect(stack.web.apiRequests()).toBe(before);
  // Nothing was queued either: the next run has nothing to send.
  expect(await queued(cli)).toEqual([]);
});

test("a refusal by the server prints its message and exits 1", async ({
  stack,
}) => {
  const missing = randomUUID();
  const result = await stack.cli.run([
    "issues",
    "update",
    missing,
    "--title",
    "X",
  ]);
  expect(result.code).toBe(1);
  expect(result.stderr).toBe(
    "error: refused by the server (NOT_FOUND): Issue not found\n",
  );
});

test("a write the server never answered is sent by the next run, once", async ({
  stack,
  db,
}) => {
  const { cli, projectId } = stack;
  const title = `Queued while down ${randomUUID()}`;
  let first = { code: null as number | null, stderr: "" };
  await stack.restartWeb(async () => {
    first = await cli.run([
      "issues",
      "create",
      "--project",
      projectId,
      "--title",
      title,
    ]);
  });
  expect(first.code).toBe(4);
  expect(first.stderr).toMatch(
    /could not reach .*1 write\(s\) kept, sent by the next run/,
  );
  expect(await db.issue.count({ where: { title } })).toBe(0);
  expect(await queued(cli)).toMatchObject([{ name: "issues.create" }]);

  const second = await cli.run([
    "issues",
    "create",
    "--project",
    projectId,
    "--title",
    "Next",
  ]);
  expect(second.code).toBe(0);
  expect(await db.issue.count({ where: { title } })).toBe(1);
  expect(await queued(cli)).toEqual([]);
});
