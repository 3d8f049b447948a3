/**
 * Reads through the web app's shape proxy: `projects`, `issues list` with its filters, and
 * `watch` printing changes another client makes, live; a non-member reads nothing.
 */
import { expect } from "vitest";

import { waitFor } from "@repo/test-support";

import { signedInCli, signUp, cliTest as test } from "./support/stack";

test(
  "projects and issues list read the proxy's shapes, filtered and in sort-key order",
  {
    // Seven runs of the CLI, each a process of its own.
    timeout: 90_000,
  },
  async ({ stack }) => {
    const { cli, projectId } = stack;
    const create = async (title: string, status: string, priority: string) => {
      const result = await cli.run([
        "--json",
        "issues",
        "create",
        "-p",
        "cli PROJECT",
        "-t",
        title,
        "--status",
        status,
        "--priority",
        priority,
      ]);
      expect(result.code, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as { id: string }).id;
    };
    const first = await create("Broken footer links", "todo", "high");
    await create("Dark mode", "done", "low");
    const third = await create("Footer contrast", "todo", "low");

    const projects = await cli.run(["projects"]);
    expect(projects.code, projects.stderr).toBe(0);
    expect(projects.stdout).toMatch(
      new RegExp(`^${projectId}\\s+CLI project\\s`, "m"),
    );

    const todo = await cli.run([
      "--json",
      "issues",
      "list",
      "-p",
      projectId,
      "--status",
      "todo",
    ]);
    expect(todo.code, todo.stderr).toBe(0);
    expect(
      (JSON.parse(todo.stdout) as { id: string }[]).map((issue) => issue.id),
    ).toEqual([first, third]);
    const search = await cli.run([
      "issues",
      "list",
      "-p",
      projectId,
      "-s",
      "FOOTER",
      "--priority",
      "low",
    ]);
    expect(
      search.stdout.split("\n").filter((line) => line.includes(third)),
    ).toHaveLength(1);
    expect(search.stdout).not.toMatch(first);
    expect(search.stdout).toMatch(/^ID\s+STATUS\s+PRIORITY\s+TITLE/);
  },
);

test(
  "watch prints each change another client makes, as it happens",
  {
    // Four runs of the CLI beside the watch, each a process of its own.
    timeout: 90_000,
  },
  async ({ stack }) => {
    const { cli, projectId, web, owner } = stack;
    const watching = cli.start(["watch", "-p", projectId]);
    try {
      await waitFor(() => /watching \d+ issues/.test(watching.errors()), {
        timeoutMs: 20_000,
        describe: () => "watch to load the project's issues",
      });
      // Another device of the same user: its own session, client id and outbox.
      const laptop = await signedInCli(web, owner);
      try {
        const created = await laptop.run([
          "--json",
          "issues",
          "create",
          "-p",
          projectId,
          "-t",
          "Seen live",
        ]);
        expect(created.code, created.stderr).toBe(0);
        const { id } = JSON.parse(created.stdout) as { id: string };
        await waitFor(
          () =>
            watching
              .output()
              .includes(`insert  ${id}  "Seen live" [backlog, none]`),
          {
            timeoutMs: 10_000,
            describe: () => "the insert line",
          },
        );
        const updated = await laptop.run([
          "issues",
          "update",
          id,
          "--status",
          "in_progress",
        ]);
        expect(updated.code, updated.stderr).toBe(0);
        await waitFor(
          () =>
            watching
              .output()
              .includes(
                `update  ${id}  "Seen live"  status: backlog → in_progress`,
              ),
          { timeoutMs: 10_000, describe: () => "the update line" },
        );
      } finally {
        await laptop.remove();
      }
    } finally {
      // Ctrl-C ends a watch normally.
      expect(await watching.stop()).toBe(0);
    }
  },
);

test("a user who is not a member reads nothing of the project", async ({
  stack,
}) => {
  const stranger = await signedInCli(
    stack.web,
    await signUp(stack.web, "Stranger"),
  );
  try {
    const list = await stranger.run(["issues", "list", "-p", stack.projectId]);
    expect(list.code, JSON.stringify(list)).toBe(1);
    expect(list.stdout).toBe("");
    expect(list.stderr).toMatch(/^error: the server refused \(404\)/);
    const projects = await stranger.run(["--json", "projects"]);
    expect(JSON.parse(projects.stdout)).toEqual([]);
  } finally {
    await stranger.remove();
  }
});
