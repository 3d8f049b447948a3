/**
 * `pnpm db:migration <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql with the
 * SQL that takes the existing migrations to what prisma/schema.prisma declares — what
 * `prisma migrate dev --create-only` does, without Prisma's native schema engine.
 *
 * It applies the migrations to a throwaway embedded PostgreSQL and diffs that against the schema,
 * so your dev database is never touched. Review the file, add hand-written parts (REPLICA
 * IDENTITY FULL for new synced tables, triggers), then `pnpm dev` or `pnpm db:migrate` applies it.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { ensureDatabase, startDevPostgres } from "@repo/dev-postgres";
import { runMigrations } from "@repo/migrate";
import { diffDatabaseToSchema } from "@repo/migrate/schema-diff";

const root = fileURLToPath(new URL("..", import.meta.url));
const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error(
    "usage: pnpm db:migration <name>   (lowercase letters, digits and _)",
  );
  process.exit(1);
}

const dir = await mkdtemp(join(tmpdir(), "kit-new-migration-"));
const server = await startDevPostgres({
  dataDir: join(dir, "data"),
  ephemeral: true,
});
try {
  await ensureDatabase(server.url, "shadow");
  const databaseUrl = server.urlFor("shadow");
  await runMigrations({
    databaseUrl,
    migrationsDir: join(root, "prisma/migrations"),
  });
  const { hasChanges, script } = await diffDatabaseToSchema({
    databaseUrl,
    schemaPath: join(root, "prisma/schema.prisma"),
  });
  if (!hasChanges) {
    console.log(
      "schema.prisma and prisma/migrations already agree: no migration needed",
    );
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
    const target = join(root, "prisma/migrations", `${stamp}_${name}`);
    await mkdir(target);
    await writeFile(join(target, "migration.sql"), script);
    console.log(`wrote ${join(target, "migration.sql")}:\n\n${script}`);
  }
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
