/** `pnpm db:seed` (and `prisma db seed`): inserts the demo data into DATABASE_URL, once. */
import { createDb } from "@repo/db";

import { seed } from "../prisma/seed";
import { env } from "./env";

if (!env.DATABASE_URL) {
  console.error("DATABASE_URL is not set: which database should be seeded?");
  process.exit(1);
}
const db = createDb(env.DATABASE_URL);
try {
  const { inserted } = await seed(db);
  console.log(
    inserted === 0 ? "seed data already present" : `seeded ${inserted} rows`,
  );
} finally {
  await db.$disconnect();
}
