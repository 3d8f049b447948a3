/**
 * Integration-test helpers: a fresh, migrated database per test file, cloned from the template
 * that globalSetup prepared, so files run in parallel without sharing rows.
 */
import { randomBytes } from "node:crypto";
import { test as baseTest, inject } from "vitest";

import "./provided";

import { dropDatabase, withClient } from "@repo/dev-postgres";

import { databaseUrl } from "./urls";

export { migrationsDir, repoRoot, schemaPath } from "./paths";
export { databaseUrl } from "./urls";
export { waitFor } from "./wait-for";
export type { WaitForOptions } from "./wait-for";

export interface TestDatabase {
  name: string;
  url: string;
  /** Superuser URL of the server's maintenance database (to create/drop other databases). */
  adminUrl: string;
  drop(): Promise<void>;
}

/** Clones the migrated template into a new database (about 10 ms); call `drop()` when done. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject("postgresAdminUrl");
  const template = inject("templateDatabase");
  const name = `test_${randomBytes(6).toString("hex")}`;
  await withClient(adminUrl, (client) =>
    client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`),
  );
  return {
    name,
    url: databaseUrl(adminUrl, name),
    adminUrl,
    drop: () => dropDatabase(adminUrl, name),
  };
}

/**
 * `test` with a `database` fixture: one fresh database per test file, dropped after the file.
 *
 * @example
 * dbTest("inserts", async ({ database }) => { const db = createDb(database.url); … });
 */
export const dbTest = baseTest.extend(
  "database",
  { scope: "file" },
  async ({}, { onCleanup }) => {
    const database = await createTestDatabase();
    onCleanup(() => database.drop());
    return database;
  },
);
