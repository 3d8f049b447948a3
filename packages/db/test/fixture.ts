import { PrismaPg } from "@prisma/adapter-pg";

import { dbTest } from "@repo/test-support";

import type { Db } from "../src";
import { createDb } from "../src";
import { PrismaClient } from "../src/generated/prisma/client";

/**
 * `test` of the db package's integration tests: `database` (a fresh migrated database per file,
 * from @repo/test-support), `db` (a `createDb` client of it, pool of 8) and `plainDb` (a
 * PrismaClient built without `createDb`: no direct path, everything through Prisma), both
 * disconnected after the file.
 */
export const test = dbTest
  .extend("db", { scope: "file" }, async ({ database }, { onCleanup }) => {
    const db = createDb(database.url, { max: 8 });
    onCleanup(() => db.$disconnect());
    return db;
  })
  .extend(
    "plainDb",
    { scope: "file" },
    async ({ database }, { onCleanup }): Promise<Db> => {
      const db = new PrismaClient({
        adapter: new PrismaPg({ connectionString: database.url }),
      });
      onCleanup(() => db.$disconnect());
      return db;
    },
  );
