import { createEnv } from "@t3-oss/env-nextjs";
import { z } from "zod";

/** The only file in apps/web that reads process.env. */
export const env = createEnv({
  server: {
    DATABASE_URL: z.url({
      protocol: /^postgres(ql)?$/,
      error: "must be a postgres:// URL",
    }),
    NODE_ENV: z
      .enum(["development", "test", "production"])
      .default("development"),
  },
  client: {},
  experimental__runtimeEnv: {},
  // `next build` of the Docker image has no database: its env is checked when the server starts.
  skipValidation: process.env.SKIP_ENV_VALIDATION === "1",
  emptyStringAsUndefined: true,
});
