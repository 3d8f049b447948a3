import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import type { TestDatabase } from "@repo/test-support";
import { withClient } from "@repo/dev-postgres";
import {
  MigrationFailedError,
  readMigrationsDir,
  runMigrations,
} from "@repo/migrate";
import { createTestDatabase, migrationsDir } from "@repo/test-support";

/** An empty database on the test server (not cloned from the migrated template). */
async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  await withClient(database.url, async (client) => {
    await client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  });
  return database;
}

const databases: TestDatabase[] = [];
const scratchDirs: string[] = [];
afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
  await Promise.all(
    scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })),
  );
});

async function fresh(): Promise<TestDatabase> {
  const database = await emptyDatabase();
  databases.push(database);
  return database;
}

/** A copy of prisma/migrations plus extra migrations, in a scratch directory. */
async function migrationsWith(extra: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kit-migrations-"));
  scratchDirs.push(dir);
  await cp(migrationsDir, dir, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

const query = <T extends object>(
  url: string,
  sql: string,
  params: unknown[] = [],
) =>
  withClient(url, async (client) => (await client.query<T>(sql, params)).rows);

describe("runMigrations", () => {
  it("applies every migration and records it as prisma migrate deploy does", async () => {
    const { url } = await fresh();
    const local = await readMigrationsDir(migrationsDir);

    const result = await runMigrations({ databaseUrl: url, migrationsDir });

    expect(result.applied).toEqual(local.map((m) => m.name));
    const rows = await query<{
      migration_name: string;
      checksum: string;
      applied_steps_count: number;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      logs: string | null;
    }>(url, `SELECT * FROM "_prisma_migrations" ORDER BY migration_name`);
    expect(rows).toHaveLength(local.length);
    for (const [index, row] of rows.entries()) {
      const file = await readFile(
        join(migrationsDir, row.migration_name, "migration.sql"),
      );
      expect(row.migration_name).toBe(local[index]?.name);
      expect(row.checksum).toBe(
        createHash("sha256").update(file).digest("hex"),
      );
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
    }
  });

  it("is a no-op the second time", async () => {
    const { url } = await fresh();
    await runMigrations({ databaseUrl: url, migrationsDir });
    const before = await query(
      url,
      `SELECT id, finished_at FROM "_prisma_migrations"`,
    );

    const again = await runMigrations({ databaseUrl: url, migrationsDir });

    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied.length).toBeGreaterThan(0);
    expect(
      await query(url, `SELECT id, finished_at FROM "_prisma_migrations"`),
    ).toEqual(before);
  });

  it("applies each migration once when two runners race (advisory lock)", async () => {
    const { url } = await fresh();
    const [a, b] = await Promise.all([
      runMigrations({ databaseUrl: url, migrationsDir }),
      runMigrations({ databaseUrl: url, migrationsDir }),
    ]);
    expect([...a.applied, ...b.applied].sort()).toEqual(
      (await readMigrationsDir(migrationsDir)).map((m) => m.name),
    );
  });

  it("rolls a failing migration back entirely and names its file", async () => {
    const { url } = await fresh();
    await runMigrations({ databaseUrl: url, migrationsDir });
    const dir = await migrationsWith({
      "29990101000000_broken": [
        `CREATE TABLE "half_done" ("id" UUID PRIMARY KEY);`,
        `ALTER TABLE "issues" ADD COLUMN "estimate" INTEGER;`,
        `ALTER TABLE "no_such_table" ADD COLUMN "x" INTEGER;`,
      ].join("\n"),
    });

    const failure = await runMigrations({
      databaseUrl: url,
      migrationsDir: dir,
    }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(MigrationFailedError);
    const error = failure as MigrationFailedError;
    expect(error.migration).toBe("29990101000000_broken");
    expect(error.message).toContain(
      join(dir, "29990101000000_broken", "migration.sql"),
    );
    expect(error.message).toContain('relation "no_such_table" does not exist');
    const leftovers = await query(
      url,
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE (table_name = 'half_done') OR (table_name = 'issues' AND column_name = 'estimate')`,
    );
    expect(leftovers).toEqual([]);
    expect(
      await query(
        url,
        `SELECT 1 FROM "_prisma_migrations" WHERE migration_name LIKE '2999%'`,
      ),
    ).toEqual([]);
  });

  it("points at the line of a syntax error", async () => {
    const { url } = await fresh();
    const dir = await migrationsWith({
      "29990101000000_typo": `CREATE TABLE "a" ("id" UUID PRIMARY KEY);\n\nCRATE INDEX "a_id" ON "a"("id");`,
    });

    const failure = await runMigrations({
      databaseUrl: url,
      migrationsDir: dir,
    }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(MigrationFailedError);
    expect((failure as Error).message).toContain(
      `syntax error at or near "CRATE" (line 3: CRATE INDEX "a_id" ON "a"("id");)`,
    );
  });

  it("applies migrations added later, in name order", async () => {
    const { url } = await fresh();
    await runMigrations({ databaseUrl: url, migrationsDir });
    const dir = await migrationsWith({
      "29990102000000_second": `ALTER TABLE "labels" ADD COLUMN "color" TEXT;`,
      "29990101000000_first": `CREATE TABLE "labels" ("id" UUID PRIMARY KEY);`,
    });

    const result = await runMigrations({
      databaseUrl: url,
      migrationsDir: dir,
    });

    expect(result.applied).toEqual([
      "29990101000000_first",
      "29990102000000_second",
    ]);
  });

  it("warns, and does not re-apply, when an applied migration was edited", async () => {
    const { url } = await fresh();
    const dir = await migrationsWith({
      "29990101000000_x": `CREATE TABLE "x" ("id" INT PRIMARY KEY);`,
    });
    await runMigrations({ databaseUrl: url, migrationsDir: dir });
    await writeFile(
      join(dir, "29990101000000_x", "migration.sql"),
      `CREATE TABLE "x" ("id" BIGINT);`,
    );
    const messages: string[] = [];

    const result = await runMigrations({
      databaseUrl: url,
      migrationsDir: dir,
      log: (m) => messages.push(m),
    });

    expect(result.applied).toEqual([]);
    expect(messages).toContain(
      "warning: 29990101000000_x was modified after it was applied",
    );
  });
});

describe("the migrations", () => {
  it("give every synced table REPLICA IDENTITY FULL and no other", async () => {
    const { url } = await fresh();
    await runMigrations({ databaseUrl: url, migrationsDir });
    const rows = await query<{ relname: string; relreplident: string }>(
      url,
      `SELECT relname, relreplident FROM pg_class
        WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY relname`,
    );
    const full = rows
      .filter((row) => row.relreplident === "f")
      .map((row) => row.relname);
    expect(full).toEqual([
      "comments",
      "doc_updates",
      "issues",
      "presence",
      "project_members",
      "projects",
      "users",
    ]);
  });
});
