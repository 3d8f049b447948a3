/**
 * Applies `prisma/migrations` the way `prisma migrate deploy` does, without Prisma's native
 * schema engine (which cannot be downloaded on our machines).
 *
 * Compatibility with Prisma is the point: the same `_prisma_migrations` table, the same checksum
 * (SHA-256 of the file), the same advisory lock key, so `prisma migrate deploy` run later against
 * the same database sees every migration as applied, and the two never run at once.
 *
 * Unlike Prisma, each migration runs inside one transaction together with its history row, so a
 * failing migration leaves no trace at all (Prisma would leave a failed row that blocks deploys).
 * A migration that cannot run in a transaction (e.g. `CREATE INDEX CONCURRENTLY`) is therefore
 * not supported here.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";

import type { MigrationFile } from "./migrations-dir";
import { MigrationFailedError, MigrationHistoryError } from "./errors";
import { readMigrationsDir } from "./migrations-dir";

/** The session advisory lock prisma-engines takes around Postgres migrations. */
const PRISMA_ADVISORY_LOCK_ID = 72707369;

/** Prisma's DDL for its history table (schema-engine, postgres flavour). */
const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface RunMigrationsOptions {
  databaseUrl: string;
  migrationsDir: string;
  log?: (message: string) => void;
}

export interface RunMigrationsResult {
  applied: string[];
  alreadyApplied: string[];
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export async function runMigrations(
  options: RunMigrationsOptions,
): Promise<RunMigrationsResult> {
  const log = options.log ?? (() => undefined);
  const migrations = await readMigrationsDir(options.migrationsDir);
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [
      PRISMA_ADVISORY_LOCK_ID,
    ]);
    try {
      await client.query(CREATE_HISTORY_TABLE);
      const applied = await readHistory(client);
      const result: RunMigrationsResult = { applied: [], alreadyApplied: [] };
      for (const migration of migrations) {
        const previous = applied.get(migration.name);
        if (previous) {
          if (previous.checksum !== migration.checksum) {
            log(`warning: ${migration.name} was modified after it was applied`);
          }
          result.alreadyApplied.push(migration.name);
          continue;
        }
        log(`applying ${migration.name}`);
        await applyOne(client, migration);
        result.applied.push(migration.name);
      }
      return result;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [
        PRISMA_ADVISORY_LOCK_ID,
      ]);
    }
  } finally {
    await client.end();
  }
}

async function readHistory(
  client: pg.Client,
): Promise<Map<string, HistoryRow>> {
  const { rows } = await client.query<HistoryRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at
       FROM "_prisma_migrations" ORDER BY started_at`,
  );
  const failed = rows.find(
    (row) => row.finished_at === null && row.rolled_back_at === null,
  );
  if (failed) {
    throw new MigrationHistoryError(
      `Migration ${failed.migration_name} is recorded as failed in _prisma_migrations ` +
        `(left by an earlier \`prisma migrate deploy\`). Fix the database, then run ` +
        `\`prisma migrate resolve --rolled-back ${failed.migration_name}\` (or --applied).`,
    );
  }
  return new Map(
    rows
      .filter((row) => row.rolled_back_at === null)
      .map((row) => [row.migration_name, row]),
  );
}

async function applyOne(
  client: pg.Client,
  migration: MigrationFile,
): Promise<void> {
  await client.query("BEGIN");
  try {
    // Simple-query protocol: the whole file runs as one multi-statement script, as in Prisma.
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw new MigrationFailedError(
      migration.name,
      migration.path,
      describe(error, migration.sql),
      {
        cause: error,
      },
    );
  }
}

/** The Postgres message plus the line it points at, when it points somewhere. */
function describe(error: unknown, sql: string): string {
  if (!(error instanceof Error)) return String(error);
  const position = Number((error as { position?: string }).position);
  if (!Number.isInteger(position) || position < 1) return error.message;
  const line = sql.slice(0, position - 1).split("\n").length;
  return `${error.message} (line ${line}: ${sql.split("\n")[line - 1]?.trim() ?? ""})`;
}
