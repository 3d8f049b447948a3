/**
 * The sync server's start and stop: Electric's Shape API (`src/http`, SPEC.md "Request rules")
 * over one replication stream and the shape manager.
 *
 * 1. Startup: parser, pool, replication (publication + slot), stored shapes, HTTP listener.
 * 2. Maintenance: dropped tables (every 2 s) and idle shapes.
 * 3. Shutdown: stop accepting, end live requests, stop replication (slot kept), close pool.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";

import type { ServerContext } from "./http/context";
import type { Logger } from "./logger";
import { errorText } from "./error-text";
import { sendInternalError } from "./http/error-response";
import { ParsedRequestCache } from "./http/parsed-request-cache";
import { handleRequest } from "./http/router";
import { createLogger } from "./logger";
import { SESSION_OPTIONS } from "./replication/postgres-settings";
import {
  dropReplication,
  ReplicationStream,
} from "./replication/replication-stream";
import { createTableAllowList } from "./shapes/identifiers";
import { loadPgParser } from "./shapes/pg-parser";
import { ShapeManager } from "./shapes/shape-manager";
import { DiskShapeStorage, MemoryShapeStorage } from "./shapes/shape-storage";

export interface SyncServerOptions {
  databaseUrl: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  host?: string;
  /** Required `secret` query parameter; undefined only when `insecure` is true. */
  secret?: string;
  insecure?: boolean;
  slotName?: string;
  publicationName?: string;
  longPollTimeoutMs?: number;
  sseTimeoutMs?: number;
  sseKeepAliveMs?: number;
  /** Bytes of JSON per non-live response before the log is cut into another chunk. */
  chunkBytes?: number;
  /** Shapes without readers for this long are dropped. */
  shapeIdleMs?: number;
  allowShapeDeletion?: boolean;
  /**
   * The only tables requests may name (as in `table`; unqualified means `public`). Undefined:
   * every user table, as in Electric, where the proxy in front decides what each client reads.
   */
  allowedTables?: readonly string[];
  /**
   * Directory for shape logs. With it, logs survive restarts and clients resume; without it,
   * logs are in memory and a restart makes clients refetch (409).
   */
  storageDir?: string;
  poolSize?: number;
  /**
   * Internal: longest wait before synced logs are confirmed to the slot (default 50 ms). Tests
   * raise it to stage a crash with served but unconfirmed transactions; not an env setting.
   */
  confirmIntervalMs?: number;
  /**
   * Internal: how long a table's first shape waits for the transactions open when the table
   * joined the publication before answering 503 (default 10 s). Tests lower it.
   */
  openWritersWaitMs?: number;
  logger?: Logger;
}

export interface SyncServer {
  readonly url: string;
  readonly port: number;
  readonly shapes: ShapeManager;
  /** Stops serving; the replication slot stays so a restart resumes. */
  stop(): Promise<void>;
  /** Stops and drops the slot and publication (tests, `drop-slot`). */
  stopAndDropSlot(): Promise<void>;
}

const DEFAULTS = {
  slotName: "electric_kit_slot",
  publicationName: "electric_kit_publication",
  longPollTimeoutMs: 20_000,
  sseTimeoutMs: 60_000,
  sseKeepAliveMs: 21_000,
  chunkBytes: 10 * 1024 * 1024,
  shapeIdleMs: 10 * 60_000,
  poolSize: 10,
};

export async function startSyncServer(
  options: SyncServerOptions,
): Promise<SyncServer> {
  if (!options.secret && !options.insecure)
    throw new Error(
      "a secret is required (ELECTRIC_SECRET); set ELECTRIC_INSECURE=true to run without one in development",
    );
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const logger = options.logger ?? createLogger("info");
  await loadPgParser();
  const isAllowedTable = options.allowedTables
    ? createTableAllowList(options.allowedTables)
    : undefined;

  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    options: SESSION_OPTIONS,
    max: settings.poolSize,
    application_name: "sync-server",
  });
  pool.on("error", (error) =>
    logger.warn("idle database connection failed", { error: error.message }),
  );
  // The pool listens on idle clients only: a checked-out client (a snapshot's) whose session
  // ends (57P01 when the database is dropped WITH (FORCE)) emitted an unlistened 'error' that
  // ended the process. Its query fails and is reported where it was made.
  pool.on("connect", (client) => client.on("error", () => undefined));

  // Its callbacks run only after start(), when `shapes` exists.
  const replication = new ReplicationStream(pool, {
    databaseUrl: options.databaseUrl,
    slotName: settings.slotName,
    publicationName: settings.publicationName,
    logger,
    onTransaction: (transaction) => shapes.handleTransaction(transaction),
    onRelation: (relation) => shapes.handleRelation(relation),
    onError: (error) => {
      logger.error("replication failed", { error: error.message });
      replicationHealthy = false;
    },
    beforeConfirm: (lsn) => shapes.syncAll(lsn),
    onContinuityLost: (reason) => shapes.rotateAll(reason),
    confirmIntervalMs: options.confirmIntervalMs,
    openWritersWaitMs: options.openWritersWaitMs,
    onConnected: () => {
      replicationHealthy = true;
    },
  });
  const storage = options.storageDir
    ? new DiskShapeStorage(options.storageDir)
    : new MemoryShapeStorage();
  const shapes = new ShapeManager({
    pool,
    logger,
    ensurePublished: (table) => replication.ensurePublished(table),
    storage,
    chunkBytes: settings.chunkBytes,
  });
  let replicationHealthy = false;
  try {
    await replication.prepare();
    const discarded = storage.claim(
      replication.source,
      replication.createdSlot,
    );
    if (discarded > 0)
      logger.warn("stored shapes discarded: their changes cannot be replayed", {
        count: discarded,
        reason: replication.createdSlot
          ? "new replication slot"
          : "another database",
      });
    // Stored shapes must be back before streaming starts, so replayed transactions reach them.
    const restored = await shapes.restore(replication.resumeLsn);
    if (restored > 0)
      logger.info("shapes restored from storage", { count: restored });
    await replication.startStreaming();
    replicationHealthy = true;
  } catch (error) {
    await replication.stop().catch(() => undefined);
    await pool.end();
    throw error;
  }

  const context: ServerContext = {
    shapes,
    replication,
    logger,
    settings,
    secret: options.secret,
    allowShapeDeletion: options.allowShapeDeletion ?? false,
    isAllowedTable,
    liveResponses: new Set(),
    pool,
    stopping: false,
    isHealthy: () => replicationHealthy,
    parsedRequests: new ParsedRequestCache(),
  };
  const server = createServer((request, response) => {
    handleRequest(context, request, response).catch((error: unknown) => {
      logger.error("request failed", {
        error: errorText(error),
        url: request.url,
      });
      if (!response.headersSent) sendInternalError(response);
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  await listen(server, options.port, options.host ?? "127.0.0.1");
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;
  logger.info("sync server listening", { url, slot: settings.slotName });

  const maintenance = setInterval(
    () => {
      void checkDroppedTables(pool, shapes, logger);
      const removed = shapes.cleanup(settings.shapeIdleMs);
      if (removed > 0) logger.info("idle shapes removed", { count: removed });
    },
    Math.min(2_000, settings.shapeIdleMs),
  );
  maintenance.unref();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(maintenance);
      context.stopping = true;
      const closed = new Promise<void>((resolve) =>
        server.close(() => resolve()),
      );
      // Held long-polls answer up-to-date now; then every connection is closed so keep-alive
      // clients cannot start new requests on them while we shut down.
      for (const end of [...context.liveResponses]) end();
      await new Promise((resolve) => setImmediate(resolve));
      server.closeAllConnections();
      await replication.stop();
      shapes.closeAll();
      await closed;
      await pool.end();
      logger.info("sync server stopped");
    })();
    return stopping;
  };
  return {
    url,
    port,
    shapes,
    stop,
    stopAndDropSlot: async () => {
      await stop();
      await dropSlot({ ...settings, databaseUrl: options.databaseUrl });
    },
  };
}

/** Drops the server's replication slot and publication (tests, `drop-slot`). */
export async function dropSlot({
  databaseUrl,
  slotName,
  publicationName,
}: {
  databaseUrl: string;
  slotName: string;
  publicationName: string;
}): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  // As for the pool's clients: a session ended under it fails the query, not the process.
  client.on("error", () => undefined);
  await client.connect();
  try {
    await dropReplication(client, slotName, publicationName);
  } finally {
    await client.end();
  }
}

async function checkDroppedTables(
  pool: pg.Pool,
  shapes: ShapeManager,
  logger: Logger,
): Promise<void> {
  const oids = shapes.relationOids();
  if (oids.length === 0) return;
  try {
    const { rows } = await pool.query<{ oid: number }>(
      "SELECT oid::int AS oid FROM pg_class WHERE oid = ANY($1::oid[])",
      [oids],
    );
    const present = new Set(rows.map((row) => row.oid));
    for (const oid of oids) {
      if (present.has(oid)) continue;
      for (const shape of shapes.shapesOfRelation(oid))
        shapes.remove(shape, "table dropped");
    }
  } catch (error) {
    logger.warn("dropped-table check failed", { error: errorText(error) });
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, item]) => item !== undefined),
  ) as Partial<T>;
}

export { dropReplication };
