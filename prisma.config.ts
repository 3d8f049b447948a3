// Prisma 7 CLI config. The CLI no longer reads .env, and `prisma generate` must not need a
// database, so the URL is optional here; `migrate deploy` (production) requires it.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: {
    path: "prisma/migrations",
    seed: "tsx scripts/seed.ts",
  },
  datasource: {
    url: process.env.DATABASE_URL ?? "",
  },
});
