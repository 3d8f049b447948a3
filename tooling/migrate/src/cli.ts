/** `pnpm db:migrate`: applies pending migrations to DATABASE_URL (what `prisma migrate deploy` does). */
import { fileURLToPath } from "node:url";

import { env } from "./env";
import { MigrationFailedError, runMigrations } from "./index";

const migrationsDir = fileURLToPath(
  new URL("../../../prisma/migrations", import.meta.url),
);

try {
  const { applied, alreadyApplied } = await runMigrations({
    databaseUrl: env.DATABASE_URL,
    migrationsDir,
    log: (message) => console.log(message),
  });
  console.log(
    applied.length === 0
      ? `database is up to date (${alreadyApplied.length} migrations applied earlier)`
      : `applied ${applied.length} migration(s); ${alreadyApplied.length} were already applied`,
  );
} catch (error) {
  console.error(error instanceof MigrationFailedError ? error.message : error);
  process.exitCode = 1;
}
