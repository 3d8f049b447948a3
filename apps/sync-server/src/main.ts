/**
 * Runnable service: `node --import tsx src/main.ts` serves the Shape API; `… drop-slot` removes
 * the replication slot and publication (e.g. before deleting a database).
 */
import { env } from "./env";
import { errorMessage } from "./error-text";
import { createLogger } from "./logger";
import { dropSlot, startSyncServer } from "./server";

const logger = createLogger(env.ELECTRIC_LOG_LEVEL);

async function main(): Promise<void> {
  if (process.argv[2] === "drop-slot") {
    await dropSlot({
      databaseUrl: env.DATABASE_URL,
      slotName: env.ELECTRIC_REPLICATION_SLOT,
      publicationName: env.ELECTRIC_PUBLICATION,
    });
    logger.info("dropped replication slot and publication", {
      slot: env.ELECTRIC_REPLICATION_SLOT,
      publication: env.ELECTRIC_PUBLICATION,
    });
    return;
  }
  if (env.ELECTRIC_INSECURE && !env.ELECTRIC_SECRET)
    logger.warn(
      "running WITHOUT a secret (ELECTRIC_INSECURE): for local development only",
    );
  const server = await startSyncServer({
    databaseUrl: env.DATABASE_URL,
    port: env.ELECTRIC_PORT,
    host: env.ELECTRIC_HOST,
    secret: env.ELECTRIC_SECRET,
    insecure: env.ELECTRIC_INSECURE,
    slotName: env.ELECTRIC_REPLICATION_SLOT,
    publicationName: env.ELECTRIC_PUBLICATION,
    longPollTimeoutMs: env.ELECTRIC_LONG_POLL_TIMEOUT_MS,
    chunkBytes: env.ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD,
    allowShapeDeletion: env.ELECTRIC_ALLOW_SHAPE_DELETION,
    allowedTables: env.ELECTRIC_ALLOWED_TABLES,
    storageDir: env.ELECTRIC_STORAGE_DIR,
    logger,
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error("shutdown failed", { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  logger.error("sync server failed to start", {
    error: errorMessage(error),
  });
  process.exit(1);
});
