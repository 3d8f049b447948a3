/**
 * Drift check: the database that prisma/migrations produce must be exactly what
 * prisma/schema.prisma declares. When this fails, write a migration for your schema change; the
 * failure message contains the SQL it needs (as `prisma migrate diff` would print it).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

import { diffDatabaseToSchema } from "@repo/migrate/schema-diff";
import { dbTest, schemaPath } from "@repo/test-support";

dbTest("prisma/migrations and schema.prisma agree", async ({ database }) => {
  const { hasChanges, script } = await diffDatabaseToSchema({
    databaseUrl: database.url,
    schemaPath,
  });
  expect(
    hasChanges,
    `schema.prisma differs from the migrations; a migration needs:\n${script}`,
  ).toBe(false);
});

dbTest(
  "a column added to the schema without a migration is reported",
  async ({ database }) => {
    const dir = await mkdtemp(join(tmpdir(), "kit-drift-"));
    try {
      const drifted = join(dir, "schema.prisma");
      const schema = await readFile(schemaPath, "utf8");
      const withEstimate = schema.replace(
        /(model Issue \{\n)/,
        "$1  estimate    Int?\n",
      );
      expect(withEstimate).not.toBe(schema);
      await writeFile(drifted, withEstimate);

      const { hasChanges, script } = await diffDatabaseToSchema({
        databaseUrl: database.url,
        schemaPath: drifted,
      });

      expect(hasChanges).toBe(true);
      expect(script).toContain(
        'ALTER TABLE "issues" ADD COLUMN     "estimate" INTEGER',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
