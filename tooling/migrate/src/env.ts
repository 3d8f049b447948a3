import { createEnv } from "@t3-oss/env-core";
import { z } from "zod";

/** Env of `pnpm db:migrate` (src/cli.ts); the library code takes config as arguments. */
export const env = createEnv({
  server: {
    DATABASE_URL: z.url({
      protocol: /^postgres(ql)?$/,
      error: "must be a postgres:// URL",
    }),
  },
  runtimeEnv: process.env,
  emptyStringAsUndefined: true,
});
