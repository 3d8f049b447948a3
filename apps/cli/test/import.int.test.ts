/**
 * `issues import` of 10,000 rows, some bad: the bad ones reported with line and column, the
 * rest written once, and a re-run writes nothing new — checked in the database.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect } from "vitest";

import { waitFor } from "@repo/test-support";

import type { ImportSummary } from "../src/csv/import";
import { cliTest as test } from "./support/stack";

const ROWS = 10_000;
const dir = await mkdtemp(join(tmpdir(), "tracker-import-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

const csvCell = (value: string) =>
  /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;

interface Expected {
  file: string;
  /** Valid rows, the repeated key included. */
  valid: number;
  bad: { line: number; column: string }[];
}

/**
 * A file of ROWS records: mostly valid (with keys, some without — named by their content),
 * a quoted multi-line description now and then, and bad rows of every kind at known lines.
 */
async function writeCsv(
  strangerId: string,
  rows: number = ROWS,
): Promise<Expected> {
  const lines = ["key,title,description,status,priority,assignee_id"];
  const bad: Expected["bad"] = [];
  let line = 2;
  const statuses = ["backlog", "todo", "in_progress", "done", "canceled"];
  for (let i = 0; i < rows; i++) {
    let cells = [
      i % 10 === 3 ? "" : `ROW-${i}`,
      `Imported issue ${i}`,
      i % 500 === 7 ? `First line\nsecond, "quoted" line` : "",
      statuses[i % statuses.length] ?? "",
      "medium",
      "",
    ];
    const kind = i % 1000;
    if (kind === 101) {
      cells[4] = "p0";
      bad.push({ line, column: "priority" });
    } else if (kind === 202) {
      cells[1] = "  ";
      bad.push({ line, column: "title" });
    } else if (kind === 303) {
      cells[1] = "x".repeat(301);
      bad.push({ line, column: "title" });
    } else if (kind === 404) {
      cells[5] = "not-a-user";
      bad.push({ line, column: "assignee_id" });
    } else if (kind === 505 && i < 3000) {
      cells = cells.slice(0, 4);
      bad.push({ line, column: "" });
    } else if (kind === 606 && i < 2000) {
      // Valid for the schema; only the server knows this user is no member.
      cells[5] = strangerId;
      bad.push({ line, column: "assignee_id" });
    }
    const text = cells.map(csvCell).join(",");
    lines.push(text);
    line += text.split("\n").length;
  }
  // A key seen before in the same file: the same issue, which the server refuses as a
  // duplicate (it was not there when the import started): counted as already imported.
  lines.push("ROW-0,Imported issue 0 again,,todo,high,");
  const file = join(dir, `issues-${randomUUID()}.csv`);
  await writeFile(file, `${lines.join("\n")}\n`);
  return { file, valid: rows + 1 - bad.length, bad };
}

test("a CSV of 10,000 rows: bad rows reported by line and column, the rest written once; a re-run writes nothing", async ({
  stack,
  db,
}) => {
  const { cli, projectId } = stack;
  const stranger = await db.user.create({
    data: { name: "Stranger", email: `${randomUUID()}@example.com` },
  });
  const expected = await writeCsv(stranger.id);
  const importFile = () =>
    cli.run(
      ["--json", "issues", "import", expected.file, "--project", projectId],
      {
        timeoutMs: 300_000,
      },
    );

  const first = await importFile();
  expect(first.code, first.stderr).toBe(1);
  const summary = JSON.parse(first.stdout) as ImportSummary & {
    rowsPerSecond: number;
  };
  console.info(
    `import of ${ROWS} rows: ${(summary.elapsedMs / 1000).toFixed(1)} s, ${summary.rowsPerSecond} rows/s, CLI CPU ${(summary.cpuMs / 1000).toFixed(1)} s`,
  );
  expect(summary).toMatchObject({
    rows: ROWS + 1,
    written: expected.valid - 1,
    alreadyImported: 1,
  });
  expect(summary.bad.map(({ line, column }) => ({ line, column }))).toEqual(
    expected.bad,
  );
  const rows = await db.issue.findMany({
    where: { projectId },
    select: { id: true, title: true, updatedAt: true },
  });
  expect(rows).toHaveLength(expected.valid - 1);
  expect(new Set(rows.map((row) => row.title)).size).toBe(expected.valid - 1);
  expect(rows.map((row) => row.title)).not.toContain("Imported issue 0 again");

  const second = await importFile();
  expect(second.code, second.stderr).toBe(1);
  expect(JSON.parse(second.stdout)).toMatchObject({
    rows: ROWS + 1,
    written: 0,
    alreadyImported: expected.valid,
  });
  const after = await db.issue.findMany({
    where: { projectId },
    select: { id: true, title: true, updatedAt: true },
  });
  expect(new Set(after.map((row) => JSON.stringify(row)))).toEqual(
    new Set(rows.map((row) => JSON.stringify(row))),
  );
}, 600_000);

test("an import stopped with Ctrl-C resumes: the next run writes the rest, each row once", async ({
  stack,
  db,
}) => {
  const { cli } = stack;
  const project = await cli.run([
    "--json",
    "projects",
    "create",
    "--name",
    "Interrupted",
  ]);
  const projectId = (JSON.parse(project.stdout) as { project: { id: string } })
    .project.id;
  const stranger = await db.user.create({
    data: { name: "Stranger", email: `${randomUUID()}@example.com` },
  });
  const expected = await writeCsv(stranger.id, 2_000);
  const running = cli.start([
    "issues",
    "import",
    expected.file,
    "--project",
    projectId,
  ]);
  await waitFor(
    async () => (await db.issue.count({ where: { projectId } })) >= 100,
    {
      timeoutMs: 60_000,
      describe: () => "the first rows to be written",
    },
  );
  expect(await running.stop()).toBe(130);
  expect(running.errors()).toMatch(
    /interrupted after \d+ new issues; run the same command again/,
  );
  const before = await db.issue.count({ where: { projectId } });
  expect(before).toBeLessThan(expected.valid - 1);

  const resumed = await cli.run(
    ["--json", "issues", "import", expected.file, "--project", projectId],
    {
      timeoutMs: 300_000,
    },
  );
  expect(resumed.code, resumed.stderr).toBe(1);
  const titles = (
    await db.issue.findMany({ where: { projectId }, select: { title: true } })
  ).map((row) => row.title);
  expect(titles).toHaveLength(expected.valid - 1);
  expect(new Set(titles).size).toBe(expected.valid - 1);
}, 400_000);
