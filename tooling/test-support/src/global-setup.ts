/**
 * Vitest globalSetup of the integration project: one PostgreSQL server for the whole run (the
 * embedded one, in a throwaway directory, unless TEST_DATABASE_URL names a server), and one
 * migrated template database that each test file clones (see `createTestDatabase`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

import "./provided";

import {
  dropDatabase,
  ensureDatabase,
  startDevPostgres,
} from "@repo/dev-postgres";
import { runMigrations } from "@repo/migrate";

import { testEnv } from "./env";
import { migrationsDir } from "./paths";
import { databaseUrl } from "./urls";

export default async function setup(
  project: TestProject,
): Promise<() => Promise<void>> {
  const cleanups: (() => Promise<void>)[] = [];
  let adminUrl = testEnv.TEST_DATABASE_URL;
  if (!adminUrl) {
    const dir = await mkdtemp(join(tmpdir(), "kit-test-pg-"));
    const server = await startDevPostgres({
      dataDir: join(dir, "data"),
      ephemeral: true,
    });
    cleanups.push(
      () => server.stop(),
      () => rm(dir, { recursive: true, force: true }),
    );
    adminUrl = server.urlFor("postgres");
  }

  const templateDatabase = `kit_template_${process.pid}`;
  await dropDatabase(adminUrl, templateDatabase);
  await ensureDatabase(adminUrl, templateDatabase);
  await runMigrations({
    databaseUrl: databaseUrl(adminUrl, templateDatabase),
    migrationsDir,
  });
  cleanups.unshift(() => dropDatabase(adminUrl, templateDatabase));

  project.provide("postgresAdminUrl", adminUrl);
  project.provide("templateDatabase", templateDatabase);

  return async () => {
    for (const cleanup of cleanups) await cleanup();
  };
}
