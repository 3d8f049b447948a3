import { createEnv } from "@t3-oss/env-core";
import { z } from "zod";

/** Env of the root scripts (`pnpm dev`, `pnpm db:seed`). */
export const env = createEnv({
  server: {
    /** Use this database instead of starting the embedded PostgreSQL. */
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" })
      .optional(),
    /** Port of the embedded PostgreSQL (default: 54329, or any free port if taken). */
    DEV_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /** Data of `pnpm dev`: the embedded PostgreSQL and the sync server's shape logs (default .data). */
    DEV_DATA_DIR: z.string().min(1).optional(),
    /** Port of the sync server (default: 3001, or any free port if taken). */
    ELECTRIC_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /** Secret between the app and the sync server (default: a new random one per run). */
    ELECTRIC_SECRET: z.string().min(16).optional(),
    /** Signs the web app's session cookies (default: one made once and kept in the data dir). */
    BETTER_AUTH_SECRET: z.string().min(32).optional(),
    /** Port of the web app. */
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  },
  runtimeEnv: process.env,
  emptyStringAsUndefined: true,
});
