/**
 * A PostgreSQL server of a test file's own, for tests that restart or stop it (or need its
 * WAL quiet): the suite's shared server runs other test files at the same time.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { DevPostgres } from "@repo/dev-postgres";
import { ensureDatabase, startDevPostgres } from "@repo/dev-postgres";

export interface DedicatedPostgres {
  postgres: DevPostgres;
  /** A database created for the test on that server. */
  databaseUrl: string;
  /** Stops the server (if running) and deletes its directory. */
  close(): Promise<void>;
}

export async function startDedicatedPostgres(
  database = "faults",
): Promise<DedicatedPostgres> {
  const dir = await mkdtemp(join(tmpdir(), "sync-own-pg-"));
  let postgres: DevPostgres | undefined;
  const close = async () => {
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    postgres = await startDevPostgres({
      dataDir: join(dir, "data"),
      ephemeral: true,
    });
    await ensureDatabase(postgres.url, database);
    return { postgres, databaseUrl: postgres.urlFor(database), close };
  } catch (error) {
    await close();
    throw error;
  }
}
