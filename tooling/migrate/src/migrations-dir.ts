import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** One `prisma/migrations/<timestamp>_<name>/migration.sql`, as Prisma lays them out. */
export interface MigrationFile {
  /** Directory name, e.g. `20261125000000_init`: what `_prisma_migrations.migration_name` holds. */
  name: string;
  path: string;
  sql: string;
  /** Hex SHA-256 of the file's bytes: the checksum Prisma records and later compares. */
  checksum: string;
}

/** Reads every migration under `dir`, in the order Prisma applies them (directory name). */
export async function readMigrationsDir(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name, "migration.sql");
      const bytes = await readFile(path);
      return {
        name,
        path,
        sql: bytes.toString("utf8"),
        checksum: createHash("sha256").update(bytes).digest("hex"),
      };
    }),
  );
}
