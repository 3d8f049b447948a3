/**
 * Commands run at once by one user share a config directory. Each takes lanes no other running
 * command holds (a lock file with its PID beside each lane's outbox), so no two processes hand
 * out mutation ids from one outbox; a lock left by a killed run is taken over.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect } from "vitest";

import { fileOutbox } from "@repo/sync/node";

import type { Cli } from "./support/stack";
import { laneLockPath, outboxPath } from "../src/config";
import { cliTest as test } from "./support/stack";

const dir = await mkdtemp(join(tmpdir(), "tracker-lanes-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function csvOf(prefix: string, rows: number): Promise<string> {
  const lines = ["key,title"];
  for (let i = 0; i < rows; i++) lines.push(`${prefix}-${i},${prefix} ${i}`);
  const file = join(dir, `${prefix}-${randomUUID()}.csv`);
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}

/** Lock files left in the config directory, and the writes its outboxes still hold. */
async function leftovers(cli: Cli) {
  const files = await readdir(cli.configDir);
  const queued = await Promise.all(
    files
      .filter((name) => name.startsWith("outbox-") && name.endsWith(".json"))
      .map(
        async (name) =>
          (await fileOutbox(join(cli.configDir, name)).load()).entries.length,
      ),
  );
  return {
    locks: files.filter((name) => name.endsWith(".lock")),
    queued: queued.reduce((sum, n) => sum + n, 0),
  };
}

test("two imports and a create at once: every row written once, no mutation id handed out twice", async ({
  stack,
  db,
}) => {
  const { cli, projectId } = stack;
  const ROWS = 300;
  const [a, b] = await Promise.all([csvOf("A", ROWS), csvOf("B", ROWS)]);
  const importing = (file: string) =>
    cli.run(["--json", "issues", "import", file, "--project", projectId], {
      timeoutMs: 120_000,
    });
  const runs = await Promise.all([
    importing(a),
    importing(b),
    cli.run(["issues", "create", "--project", projectId, "--title", "Alone"]),
  ]);
  for (const run of runs) expect(run.code, run.stderr).toBe(0);
  for (const run of runs.slice(0, 2))
    expect(JSON.parse(run.stdout)).toMatchObject({
      written: ROWS,
      alreadyImported: 0,
      bad: [],
    });

  const titles = (
    await db.issue.findMany({ where: { projectId }, select: { title: true } })
  ).map((row) => row.title);
  expect(titles).toHaveLength(2 * ROWS + 1);
  expect(new Set(titles).size).toBe(2 * ROWS + 1);
  // One log row per write (the key is client id + mutation id), each a success.
  const log = await db.mutationLog.groupBy({
    by: ["outcome"],
    where: { userId: cli.session.user.id, name: "issues.create" },
    _count: true,
  });
  expect(log).toEqual([{ outcome: "ok", _count: 2 * ROWS + 1 }]);
  expect(await leftovers(cli)).toEqual({ locks: [], queued: 0 });
}, 240_000);

test("a lane locked by a process that is gone is taken over, with its outbox", async ({
  stack,
  db,
}) => {
  const { cli, projectId } = stack;
  const gone = spawnSync(process.execPath, ["-e", ""]).pid;
  await writeFile(laneLockPath(cli.configDir, cli.session, 0), `${gone}\n`);
  const { clientId } = await fileOutbox(
    outboxPath(cli.configDir, cli.session, 0),
  ).load();

  const run = await cli.run([
    "--json",
    "issues",
    "create",
    "--project",
    projectId,
    "--title",
    "After a crash",
  ]);
  expect(run.code, run.stderr).toBe(0);
  const { id } = JSON.parse(run.stdout) as { id: string };
  const entry = await db.mutationLog.findFirstOrThrow({
    where: { userId: cli.session.user.id, name: "issues.create" },
    orderBy: { createdAt: "desc" },
  });
  expect(entry).toMatchObject({ clientId, outcome: "ok" });
  expect(await db.issue.count({ where: { id } })).toBe(1);
  expect(await leftovers(cli)).toEqual({ locks: [], queued: 0 });
});
