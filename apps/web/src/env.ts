import { createEnv } from "@t3-oss/env-nextjs";
import { z } from "zod";

/** The only file in apps/web that reads process.env. */
export const env = createEnv({
  server: {
    DATABASE_URL: z.url({
      protocol: /^postgres(ql)?$/,
      error: "must be a postgres:// URL",
    }),
    /** Signs session cookies: 32+ random characters (`pnpm dev` keeps one in its data dir). */
    BETTER_AUTH_SECRET: z
      .string()
      .min(32, "must be at least 32 characters (openssl rand -hex 32)"),
    /** The app's public URL: browsers' `Origin` must match it (`pnpm dev` sets it). */
    BETTER_AUTH_URL: z.url(),
    /** `off` lifts better-auth's per-IP sign-in limit (tests); default: on in production. */
    BETTER_AUTH_RATE_LIMIT: z.enum(["on", "off"]).optional(),
    /** The Electric service (or the kit's sync server) the shape proxy forwards to. */
    ELECTRIC_URL: z.url(),
    /** Its secret, added by the shape proxy and never sent to browsers. */
    ELECTRIC_SECRET: z.string().min(1),
    /** Electric Cloud's source id, sent beside the secret; unset for a self-hosted Electric. */
    ELECTRIC_SOURCE_ID: z.string().min(1).optional(),
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
