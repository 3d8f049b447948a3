/** The CLI's environment, validated once (the only file that reads process.env). */
import { createEnv } from "@t3-oss/env-core";
import { z } from "zod";

export const env = createEnv({
  server: {
    /** Base URL of the tracker's web app (sign-in, /api/trpc, /api/shapes); `--url` wins. */
    TRACKER_URL: z.url().optional(),
    /** Where the CLI keeps its session and outbox (default ~/.config/tracker). */
    TRACKER_CONFIG_DIR: z.string().min(1).optional(),
  },
  runtimeEnv: process.env,
  emptyStringAsUndefined: true,
});
