import { createDb } from "@repo/db";
import { dbTest } from "@repo/test-support";

/**
 * `test` of the api's integration tests: `database` (a fresh migrated database per file, from
 * @repo/test-support) and `db`, a client of it, disconnected after the file.
 *
 * @example
 * apiTest.beforeAll(async ({ db }) => { owner = await createUser(db, "Owner"); });
 * apiTest("refuses …", async ({ db }) => { … });
 */
export const apiTest = dbTest.extend(
  "db",
  { scope: "file" },
  async ({ database }, { onCleanup }) => {
    const db = createDb(database.url);
    onCleanup(() => db.$disconnect());
    return db;
  },
);
