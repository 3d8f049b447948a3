import { createEnv } from "@t3-oss/env-core";
import { z } from "zod";

/** Test-run settings. Tests never read DATABASE_URL, so they cannot touch the dev database. */
export const testEnv = createEnv({
  server: {
    /** A Postgres server to use instead of the embedded one: a superuser URL to any database. */
    TEST_DATABASE_URL: z.url().optional(),
  },
  runtimeEnv: process.env,
  emptyStringAsUndefined: true,
});
