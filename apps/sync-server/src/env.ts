/** The sync server's environment, validated once (the only file that reads process.env). */
import { createEnv } from "@t3-oss/env-core";
import { z } from "zod";

const flag = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((value) => value === "true" || value === "1");

export const env = createEnv({
  server: {
    /** Postgres to replicate from; the user needs REPLICATION (or superuser). */
    DATABASE_URL: z.url(),
    /** HTTP port of the Shape API. */
    ELECTRIC_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
    /** Interface to listen on. */
    ELECTRIC_HOST: z.string().default("127.0.0.1"),
    /** Shared secret every request must carry as `?secret=` (Electric's ELECTRIC_SECRET). */
    ELECTRIC_SECRET: z.string().min(1).optional(),
    /** Explicit opt-out of the secret, for local development only. */
    ELECTRIC_INSECURE: flag,
    /** Logical replication slot (kept across restarts; `drop-slot` removes it). */
    ELECTRIC_REPLICATION_SLOT: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default("electric_kit_slot"),
    /** Publication the server manages (tables are added as shapes need them). */
    ELECTRIC_PUBLICATION: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default("electric_kit_publication"),
    /** How long a live long-poll request is held before answering up-to-date (< 45 s). */
    ELECTRIC_LONG_POLL_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(100)
      .max(44_000)
      .default(20_000),
    /**
     * Comma-separated tables that may be synced (`public.issues,comments`); unset: every user
     * table (Electric's model: the proxy in front decides). Not an Electric setting.
     */
    ELECTRIC_ALLOWED_TABLES: z
      .string()
      .optional()
      .transform((value) =>
        value
          ?.split(",")
          .map((name) => name.trim())
          .filter((name) => name !== ""),
      ),
    /**
     * Bytes of JSON per chunk of a shape log, the snapshot's included (Electric's variable and
     * default, 10 MB): a non-live answer is one chunk.
     */
    ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD: z.coerce
      .number()
      .int()
      .min(1)
      .default(10 * 1024 * 1024),
    /** Allow `DELETE /v1/shape` (Electric's allow_shape_deletion). */
    ELECTRIC_ALLOW_SHAPE_DELETION: flag,
    /** Directory for shape logs (survive restarts, clients resume). Unset: logs in memory. */
    ELECTRIC_STORAGE_DIR: z.string().min(1).optional(),
    ELECTRIC_LOG_LEVEL: z
      .enum(["debug", "info", "warn", "error", "silent"])
      .default("info"),
  },
  runtimeEnv: process.env,
  emptyStringAsUndefined: true,
});
