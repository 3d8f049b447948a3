/**
 * HTTP entry: Electric's Shape API (`GET|HEAD|OPTIONS /v1/shape`, `DELETE /v1/shape` when
 * enabled, `GET /v1/health`) over one replication stream and the shape manager.
 *
 * 1. Startup: parser, pool, replication (publication + slot), HTTP listener.
 * 2. Requests: validate → resolve shape (create / handle check / 409) → serve log chunk,
 *    long-poll, or SSE.
 * 3. Shutdown: stop accepting, end live requests, stop replication (slot kept), close pool.
 *
 * @see electric-protocol.md (sections referenced below)
 */
import { timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";

import type { Logger } from "./logger";
import type { ParsedShapeRequest } from "./parsed-request-cache";
import type { LogOffset } from "./protocol/offset";
import type { ShapeRequest } from "./protocol/request";
import type { ShapeDefinition } from "./shapes/definition";
import type { QualifiedName } from "./shapes/identifiers";
import type { Shape } from "./shapes/shape";
import type { LogChunk } from "./shapes/shape-log";
import { createLogger } from "./logger";
import { ParsedRequestCache } from "./parsed-request-cache";
import {
  CACHE_MAX_AGE,
  CACHE_STALE_AGE,
  CHUNK_LAST_OFFSET_HEADER,
  CHUNK_UP_TO_DATE_HEADER,
  EXPOSED_HEADERS,
  HAS_DATA_HEADER,
  HEALTH_PATH,
  LEGACY_SECRET_PARAM,
  LIVE_CACHE_BUSTER_HEADER,
  SECRET_PARAM,
  SERVER_HEADER,
  SERVER_HEADER_VALUE,
  SHAPE_HANDLE_HEADER,
  SHAPE_PATH,
  SHAPE_SCHEMA_HEADER,
  SUBSET_PARAM_PREFIX,
} from "./protocol/constants";
import { nextCursor } from "./protocol/cursor";
import {
  InvalidRequestError,
  MustRefetchError,
  UnavailableError,
} from "./protocol/errors";
import { MUST_REFETCH_BODY, upToDateMessage } from "./protocol/messages";
import { BEFORE_ALL, compareOffsets, formatOffset } from "./protocol/offset";
import { parseShapeRequest } from "./protocol/request";
import { SESSION_OPTIONS } from "./replication/postgres-settings";
import {
  dropReplication,
  ReplicationStream,
} from "./replication/replication-stream";
import {
  createTableAllowList,
  parseColumnList,
  parseTableName,
} from "./shapes/identifiers";
import { loadPgParser } from "./shapes/pg-parser";
import { ShapeManager } from "./shapes/shape-manager";
import { DiskShapeStorage, MemoryShapeStorage } from "./shapes/shape-storage";
import { parseSubsetRequest, runSubsetSnapshot } from "./shapes/subset";

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

  const context: RequestContext = {
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
      if (!response.headersSent) {
        sendJson(
          response,
          500,
          JSON.stringify({ error: "Internal server error" }),
          {
            "cache-control": "no-store",
          },
        );
      } else response.destroy();
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
      const client = new pg.Client({ connectionString: options.databaseUrl });
      await client.connect();
      try {
        await dropReplication(
          client,
          settings.slotName,
          settings.publicationName,
        );
      } finally {
        await client.end();
      }
    },
  };
}

type Settings = typeof DEFAULTS;

interface RequestContext {
  shapes: ShapeManager;
  replication: ReplicationStream;
  logger: Logger;
  settings: Settings;
  secret: string | undefined;
  allowShapeDeletion: boolean;
  /** Undefined when every user table may be synced. */
  isAllowedTable: ((table: QualifiedName) => boolean) | undefined;
  /** Callbacks that end each held (long-poll / SSE) response, for shutdown. */
  liveResponses: Set<() => void>;
  pool: pg.Pool;
  /** Set at shutdown: new requests get 503 so clients retry later. */
  stopping: boolean;
  isHealthy: () => boolean;
  parsedRequests: ParsedRequestCache;
}

async function handleRequest(
  context: RequestContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  setCommonHeaders(request, response);
  const method = request.method ?? "GET";
  const rawUrl = request.url ?? "/";
  const parsed =
    method === "GET" || method === "HEAD"
      ? context.parsedRequests.get(rawUrl)
      : undefined;
  if (parsed && !context.stopping) {
    try {
      await serveShape(context, parsed, request, response);
    } catch (error) {
      sendError(context, response, error);
    }
    return;
  }
  const url = URL.parse(rawUrl, "http://localhost");
  // Node passes the request target on as sent: an absolute form with a broken host
  // (`GET http://[::1/v1/shape`) is no URL at all.
  if (!url) {
    sendJson(
      response,
      400,
      JSON.stringify({ message: "Invalid request target" }),
      errorCacheHeaders(),
    );
    return;
  }
  if (context.stopping) {
    sendJson(
      response,
      503,
      JSON.stringify({ message: "Server is shutting down" }),
      { ...errorCacheHeaders(), "retry-after": "1", connection: "close" },
    );
    return;
  }
  if (url.pathname === HEALTH_PATH) {
    const healthy = context.isHealthy();
    sendJson(
      response,
      healthy ? 200 : 503,
      JSON.stringify({ status: healthy ? "active" : "waiting" }),
      {
        "cache-control": "no-cache, no-store, must-revalidate",
      },
    );
    return;
  }
  if (url.pathname === "/") {
    response.writeHead(200).end();
    return;
  }
  if (url.pathname !== SHAPE_PATH) {
    sendJson(response, 404, JSON.stringify({ message: "Not found" }), {
      "cache-control": "no-store",
    });
    return;
  }
  if (method === "OPTIONS") {
    response.writeHead(204, {
      "access-control-allow-headers":
        request.headers["access-control-request-headers"] ??
        "authorization, content-type",
      "access-control-max-age": "86400",
    });
    response.end();
    return;
  }
  if (
    context.secret !== undefined &&
    !secretMatches(url.searchParams, context.secret)
  ) {
    sendJson(
      response,
      401,
      JSON.stringify({ message: "Unauthorized - Invalid API secret" }),
      {
        "cache-control": "no-store",
      },
    );
    return;
  }
  try {
    if ((method === "GET" || method === "HEAD") && hasSubsetParams(url))
      await serveSubset(context, url, response, subsetFromQuery(url));
    else if (method === "GET" || method === "HEAD") {
      const shapeRequest = parseShapeRequest(url.searchParams);
      const fresh = {
        request: shapeRequest,
        definition: toDefinition(context, shapeRequest),
      };
      context.parsedRequests.set(rawUrl, fresh);
      await serveShape(context, fresh, request, response);
    } else if (method === "POST")
      await serveSubset(context, url, response, await readJsonBody(request));
    else if (method === "DELETE") await deleteShape(context, url, response);
    else
      sendJson(
        response,
        405,
        JSON.stringify({ message: `Method ${method} not allowed` }),
        {
          allow: "GET, HEAD, POST, DELETE, OPTIONS",
          "cache-control": "no-store",
        },
      );
  } catch (error) {
    sendError(context, response, error);
  }
}

function sendError(
  context: RequestContext,
  response: ServerResponse,
  error: unknown,
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (error instanceof PayloadTooLargeError) {
    sendJson(
      response,
      413,
      JSON.stringify({ message: "Request body too large" }),
      errorCacheHeaders(),
    );
  } else if (error instanceof InvalidRequestError) {
    sendJson(response, 400, error.body(), errorCacheHeaders());
  } else if (error instanceof MustRefetchError) {
    const headers: Record<string, string> = {
      "cache-control": error.newHandle
        ? `public, max-age=${CACHE_MAX_AGE}, must-revalidate`
        : "public, max-age=1, must-revalidate",
    };
    if (error.newHandle) headers[SHAPE_HANDLE_HEADER] = error.newHandle;
    sendJson(response, 409, MUST_REFETCH_BODY, headers);
  } else if (error instanceof UnavailableError) {
    sendJson(response, 503, JSON.stringify({ message: error.message }), {
      ...errorCacheHeaders(),
      "retry-after": String(error.retryAfterSeconds),
    });
  } else if (isPostgresUnavailable(error)) {
    context.logger.warn("database unavailable", { error: errorText(error) });
    sendJson(
      response,
      503,
      JSON.stringify({ message: "Database is unavailable, retry later" }),
      {
        ...errorCacheHeaders(),
        "retry-after": "5",
      },
    );
  } else {
    context.logger.error("request failed", { error: errorText(error) });
    sendJson(
      response,
      500,
      JSON.stringify({ error: "Internal server error" }),
      errorCacheHeaders(),
    );
  }
}

function errorCacheHeaders(): Record<string, string> {
  return { "cache-control": "no-store", "surrogate-control": "no-store" };
}

// --- Shape resolution -------------------------------------------------------------------

function toDefinition(
  context: RequestContext,
  request: ShapeRequest,
): ShapeDefinition {
  const errors: Record<string, string[]> = {};
  let table: ShapeDefinition["table"] | undefined;
  let columns: string[] | undefined;
  try {
    table = parseTableName(request.table);
    if (context.isAllowedTable && !context.isAllowedTable(table))
      throw InvalidRequestError.of(
        "table",
        `Table "${table.schema}"."${table.name}" is not one of the tables this server syncs (ELECTRIC_ALLOWED_TABLES)`,
      );
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    Object.assign(errors, error.errors);
  }
  try {
    columns =
      request.columns === undefined
        ? undefined
        : parseColumnList(request.columns);
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    Object.assign(errors, error.errors);
  }
  if (!table || Object.keys(errors).length > 0)
    throw new InvalidRequestError(errors);
  return {
    table,
    where: request.where,
    params: request.params,
    columns,
    replica: request.replica,
    log: request.log,
  };
}

/** The shape a request reads, or 409 when its handle is not the current one. */
async function resolveShape(
  context: RequestContext,
  request: ShapeRequest,
  definition: ShapeDefinition,
  waitForEntries = false,
): Promise<Shape> {
  const isStart =
    request.offset === "now" ||
    compareOffsets(request.offset, BEFORE_ALL) === 0;
  if (!isStart) {
    const byHandle = request.handle
      ? context.shapes.getByHandle(request.handle)
      : undefined;
    const current = context.shapes.find(definition);
    if (!byHandle || byHandle !== current || byHandle.state === "invalid") {
      throw new MustRefetchError(await currentHandle(context, definition));
    }
  }
  const shape = await context.shapes.getOrCreate(definition);
  // A non-live read from a snapshot offset starts with whatever rows the running snapshot has
  // produced (never marked up-to-date before the snapshot ends; see serveChunk); everything
  // else (offset=now, live requests, subsets) needs the finished snapshot.
  const offset = request.offset;
  if (
    offset !== "now" &&
    !request.live &&
    waitForEntries &&
    offset.tx <= 0n &&
    offset.op !== Infinity
  )
    // Pages of a few cursor batches: the client's cost per response is large enough that
    // one response per 5,000-row batch costs it more than the overlap gains.
    await shape.waitForEntries(offset, SNAPSHOT_PAGE_ROWS);
  else await shape.ready;
  if (shape.state === "invalid") {
    const failure = shape.snapshotError as
      { code?: string; message?: string } | undefined;
    // Data exceptions and bad references come from the query, not the database's health: the
    // client must not retry forever.
    if (failure?.code?.startsWith("22") || failure?.code?.startsWith("42"))
      throw InvalidRequestError.of(
        "where",
        `the shape query failed: ${failure.message ?? ""}`,
      );
    if (shape.invalidReason?.startsWith("snapshot failed"))
      throw new UnavailableError(
        `Shape snapshot failed: ${shape.invalidReason}`,
        1,
      );
    throw new MustRefetchError(await currentHandle(context, definition));
  }
  return shape;
}

/** Handle for a 409: the current (possibly new) shape of this definition, if it can exist. */
async function currentHandle(
  context: RequestContext,
  definition: ShapeDefinition,
): Promise<string | undefined> {
  try {
    return (await context.shapes.getOrCreate(definition)).handle;
  } catch (error) {
    if (error instanceof InvalidRequestError) return undefined;
    throw error;
  }
}

/** Rows a response of a running snapshot waits for (unless the snapshot ends first). */
const SNAPSHOT_PAGE_ROWS = 20_000;

// --- GET /v1/shape ----------------------------------------------------------------------

async function serveShape(
  context: RequestContext,
  parsed: ParsedShapeRequest,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const { request: shapeRequest, definition } = parsed;
  const shape = await resolveShape(context, shapeRequest, definition, true);
  shape.lastUsedAt = Date.now();

  if (shapeRequest.offset === "now") {
    const end = shape.log.lastOffset;
    sendShapeChunk(context, request, response, shape, shapeRequest, {
      requested: end,
      upToDate: true,
    });
    return;
  }
  const offset = shapeRequest.offset;
  const known = maxLsn(context, shape);
  const walAtStart = context.replication.walPositionAtStart;
  const bound = (known > walAtStart ? known : walAtStart) + 1n;
  if (offset.tx > bound)
    throw InvalidRequestError.of("offset", "out of bounds for this shape");

  if (!shapeRequest.live || shape.log.hasEntriesAfter(offset)) {
    if (shapeRequest.live && shapeRequest.liveSse) {
      serveSse(context, response, shape, shapeRequest, offset);
      return;
    }
    serveChunk(context, request, response, shape, shapeRequest, offset);
    return;
  }
  if (shapeRequest.liveSse) {
    serveSse(context, response, shape, shapeRequest, offset);
    return;
  }
  await holdUntilChange(
    context,
    request,
    response,
    shape,
    shapeRequest,
    offset,
    definition,
  );
}

function serveChunk(
  context: RequestContext,
  request: IncomingMessage,
  response: ServerResponse,
  shape: Shape,
  shapeRequest: ShapeRequest,
  offset: LogOffset,
): void {
  const chunk = shape.log.read(offset, context.settings.chunkBytes);
  // Electric never marks an offset=-1 response up-to-date, to keep it long-cacheable; nor can
  // the end of a log whose snapshot is still being written be up-to-date.
  const isInitial = compareOffsets(offset, BEFORE_ALL) === 0;
  sendShapeChunk(context, request, response, shape, shapeRequest, {
    log: chunk,
    requested: offset,
    upToDate: chunk.atEnd && !isInitial && shape.state === "ready",
  });
}

interface ChunkToSend {
  /** The log's (cached, shared) chunk; none for an answer without entries at `requested`. */
  log?: LogChunk;
  requested: LogOffset;
  upToDate: boolean;
}

function sendShapeChunk(
  context: RequestContext,
  request: IncomingMessage,
  response: ServerResponse,
  shape: Shape,
  shapeRequest: ShapeRequest,
  chunk: ChunkToSend,
): void {
  const lastOffset = chunk.log?.lastOffset ?? chunk.requested;
  const hasData = (chunk.log?.entries.length ?? 0) > 0;
  const headers: Record<string, string> = {
    [SHAPE_HANDLE_HEADER]: shape.handle,
    [CHUNK_LAST_OFFSET_HEADER]: formatOffset(lastOffset),
    [HAS_DATA_HEADER]: hasData ? "true" : "false",
    "cache-control": cacheControl(shapeRequest),
  };
  if (!shapeRequest.live) headers[SHAPE_SCHEMA_HEADER] = shape.schemaHeader;
  else
    headers[LIVE_CACHE_BUSTER_HEADER] = nextCursor(
      context.settings.longPollTimeoutMs,
      shapeRequest.cursor,
    );
  if (chunk.upToDate) headers[CHUNK_UP_TO_DATE_HEADER] = "";
  let etag = `"${shape.handle}:${formatOffset(chunk.requested)}:${formatOffset(lastOffset)}"`;
  if (shapeRequest.live && !hasData)
    etag = `"${etag.slice(1, -1)}:${Date.now()}"`;
  headers.etag = etag;
  const ifNoneMatch = request.headers["if-none-match"];
  if (ifNoneMatch?.split(",").some((tag) => tag.trim() === etag)) {
    response.writeHead(304, headers).end();
    return;
  }
  // A client busy applying a big chunk is still using the shape.
  shape.lastUsedAt = Date.now();
  headers["content-type"] = "application/json; charset=utf-8";
  response.writeHead(200, headers);
  response.end(
    request.method === "HEAD"
      ? undefined
      : encodedBody(
          chunk.log,
          chunk.upToDate ? maxLsn(context, shape) : undefined,
        ),
  );
}

/**
 * The response body as bytes, encoded once per (log chunk, up-to-date LSN): every live client
 * woken by a write gets the same chunk, so the JSON text is not concatenated and UTF-8-encoded
 * again for each of them (and clients syncing the same shape at once share initial chunks).
 * Keyed weakly by the chunk: the bytes live only while the log's read cache keeps the chunk,
 * so they add at most about that cache's own size.
 */
const encodedBodies = new WeakMap<
  LogChunk,
  { upToDateLsn: bigint | undefined; body: Buffer }
>();
let emptyUpToDateBody: { lsn: bigint; body: Buffer } | undefined;

function encodedBody(
  chunk: LogChunk | undefined,
  upToDateLsn: bigint | undefined,
): Buffer {
  const joined = chunk?.joined ?? "";
  if (joined === "" && upToDateLsn !== undefined) {
    if (emptyUpToDateBody?.lsn !== upToDateLsn)
      emptyUpToDateBody = {
        lsn: upToDateLsn,
        body: Buffer.from(`[${upToDateMessage(upToDateLsn)}]`),
      };
    return emptyUpToDateBody.body;
  }
  const cached = chunk && encodedBodies.get(chunk);
  if (cached && cached.upToDateLsn === upToDateLsn) return cached.body;
  let inner = joined;
  if (upToDateLsn !== undefined) {
    const upToDate = upToDateMessage(upToDateLsn);
    inner = inner === "" ? upToDate : `${inner},${upToDate}`;
  }
  const body = Buffer.from(`[${inner}]`);
  if (chunk) encodedBodies.set(chunk, { upToDateLsn, body });
  return body;
}

function cacheControl(request: ShapeRequest): string {
  if (request.liveSse) return `public, max-age=59`;
  if (request.live) return "public, max-age=5, stale-while-revalidate=5";
  if (request.offset !== "now" && request.offset.tx < 0n)
    return "public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746";
  return `public, max-age=${CACHE_MAX_AGE}, stale-while-revalidate=${CACHE_STALE_AGE}`;
}

/** Highest LSN this shape's readers have seen: the global position, or its log end. */
function maxLsn(context: RequestContext, shape: Shape): bigint {
  const global = context.replication.lastSeenLsn;
  const own = shape.log.lastOffset.tx;
  return global > own ? global : own;
}

/**
 * SSE resume point: the client reconnects from `<global_last_seen_lsn>_0`, so this must be past
 * every entry sent and before any future commit: one past the last commit LSN (commit records
 * are far more than one byte apart), never a keepalive position a commit could start at.
 */
function sseResumeLsn(context: RequestContext, shape: Shape): bigint {
  const commit = context.replication.lastCommitLsn;
  const own = shape.log.lastOffset.tx;
  return (commit > own ? commit : own) + 1n;
}

/** Long-poll: answer as soon as the shape gets entries, or with up-to-date at the timeout. */
function holdUntilChange(
  context: RequestContext,
  request: IncomingMessage,
  response: ServerResponse,
  shape: Shape,
  shapeRequest: ShapeRequest,
  offset: LogOffset,
  definition: ShapeDefinition,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = (send: () => void | Promise<void>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      context.liveResponses.delete(endNow);
      response.off("close", onClose);
      Promise.resolve()
        .then(send)
        .catch((error: unknown) => sendError(context, response, error))
        .finally(resolve);
    };
    const respondTimeout = () =>
      sendShapeChunk(context, request, response, shape, shapeRequest, {
        requested: offset,
        upToDate: true,
      });
    const onChange = () => {
      if (shape.state === "invalid") {
        finish(async () => {
          throw new MustRefetchError(await currentHandle(context, definition));
        });
      } else if (shape.log.hasEntriesAfter(offset)) {
        finish(() =>
          serveChunk(context, request, response, shape, shapeRequest, offset),
        );
      }
    };
    const endNow = () => finish(respondTimeout);
    const onClose = () => finish(() => undefined);
    const unsubscribe = shape.subscribe(onChange);
    const timer = setTimeout(
      () => finish(respondTimeout),
      context.settings.longPollTimeoutMs,
    );
    context.liveResponses.add(endNow);
    response.on("close", onClose);
    shape.lastUsedAt = Date.now();
  });
}

/**
 * SSE live mode (§6.3): one `data:` event per message, `up-to-date` after each batch, keep-alive
 * comments, closed after `sseTimeoutMs` (the client reconnects). The up-to-date LSN is one past
 * the last transaction sent, because the client resumes from `<lsn>_0` and must not get the
 * later ops of that transaction again.
 */
function serveSse(
  context: RequestContext,
  response: ServerResponse,
  shape: Shape,
  shapeRequest: ShapeRequest,
  from: LogOffset,
): void {
  let position = from;
  response.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": cacheControl(shapeRequest),
    connection: "keep-alive",
    [SHAPE_HANDLE_HEADER]: shape.handle,
    [CHUNK_LAST_OFFSET_HEADER]: formatOffset(from),
    [LIVE_CACHE_BUSTER_HEADER]: nextCursor(
      context.settings.longPollTimeoutMs,
      shapeRequest.cursor,
    ),
  });
  response.flushHeaders();
  const flush = () => {
    if (shape.state === "invalid") {
      end();
      return;
    }
    for (;;) {
      const chunk = shape.log.read(position, context.settings.chunkBytes);
      if (chunk.entries.length === 0) break;
      position = chunk.lastOffset;
      // The up-to-date event goes with the chunk that reaches the log end, in the same write.
      response.write(
        sseEvents(
          chunk,
          chunk.atEnd ? sseResumeLsn(context, shape) : undefined,
        ),
      );
      if (chunk.atEnd) break;
    }
  };
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(keepAlive);
    clearTimeout(timeout);
    unsubscribe();
    context.liveResponses.delete(end);
    response.end();
  };
  const unsubscribe = shape.subscribe(flush);
  const keepAlive = setInterval(
    () => response.write(": keep-alive\n\n"),
    context.settings.sseKeepAliveMs,
  );
  const timeout = setTimeout(end, context.settings.sseTimeoutMs);
  context.liveResponses.add(end);
  response.on("close", end);
  shape.lastUsedAt = Date.now();
  flush();
}

/** SSE events of a chunk (plus up-to-date), encoded once for all clients streaming it. */
const encodedEvents = new WeakMap<
  LogChunk,
  { upToDateLsn: bigint | undefined; events: Buffer }
>();

function sseEvents(chunk: LogChunk, upToDateLsn: bigint | undefined): Buffer {
  const cached = encodedEvents.get(chunk);
  if (cached && cached.upToDateLsn === upToDateLsn) return cached.events;
  let text = "";
  for (const entry of chunk.entries) text += `data: ${entry}\n\n`;
  if (upToDateLsn !== undefined)
    text += `data: ${upToDateMessage(upToDateLsn)}\n\n`;
  const events = Buffer.from(text);
  encodedEvents.set(chunk, { upToDateLsn, events });
  return events;
}

// --- Subset snapshots (GET subset__* / POST) ---------------------------------------------

function hasSubsetParams(url: URL): boolean {
  for (const key of url.searchParams.keys())
    if (key.startsWith(SUBSET_PARAM_PREFIX)) return true;
  return false;
}

function subsetFromQuery(url: URL): Record<string, unknown> {
  const source: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams)
    if (key.startsWith(SUBSET_PARAM_PREFIX))
      source[key.slice(SUBSET_PARAM_PREFIX.length)] = value;
  return source;
}

const MAX_BODY_BYTES = 1024 * 1024;

async function readJsonBody(
  request: IncomingMessage,
): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new PayloadTooLargeError();
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw InvalidRequestError.of("body", "must be a JSON object");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw InvalidRequestError.of("body", "must be a JSON object");
  return parsed as Record<string, unknown>;
}

class PayloadTooLargeError extends Error {
  override name = "PayloadTooLargeError";
}

async function serveSubset(
  context: RequestContext,
  url: URL,
  response: ServerResponse,
  source: Record<string, unknown>,
): Promise<void> {
  const shapeRequest = parseShapeRequest(url.searchParams);
  const subset = parseSubsetRequest(source);
  const definition = toDefinition(context, shapeRequest);
  const shape = await resolveShape(context, shapeRequest, definition);
  shape.lastUsedAt = Date.now();
  const result = await runSubsetSnapshot(context.pool, shape, subset);
  sendJson(response, 200, result.body, {
    "cache-control": "no-cache",
    "electric-snapshot": "true",
    [SHAPE_HANDLE_HEADER]: shape.handle,
    [CHUNK_LAST_OFFSET_HEADER]: formatOffset(shape.log.lastOffset),
    [SHAPE_SCHEMA_HEADER]: shape.schemaHeader,
  });
}

// --- DELETE /v1/shape -------------------------------------------------------------------

async function deleteShape(
  context: RequestContext,
  url: URL,
  response: ServerResponse,
): Promise<void> {
  if (!context.allowShapeDeletion) {
    sendJson(
      response,
      405,
      JSON.stringify({ message: "Shape deletion is disabled on this server" }),
      errorCacheHeaders(),
    );
    return;
  }
  const handle = url.searchParams.get("handle") ?? undefined;
  let shape = handle ? context.shapes.getByHandle(handle) : undefined;
  if (!shape && url.searchParams.get("table")) {
    const definition = toDefinition(context, {
      ...parseShapeRequest(withOffset(url.searchParams)),
    });
    shape = context.shapes.find(definition);
  }
  if (!shape) {
    sendJson(
      response,
      404,
      JSON.stringify({ message: "Shape not found" }),
      errorCacheHeaders(),
    );
    return;
  }
  context.shapes.remove(shape, "deleted by request");
  response.writeHead(202, { "cache-control": "no-cache" }).end();
}

function withOffset(query: URLSearchParams): URLSearchParams {
  const copy = new URLSearchParams(query);
  copy.set("offset", "-1");
  copy.delete("handle");
  copy.delete("live");
  return copy;
}

// --- Helpers ----------------------------------------------------------------------------

function setCommonHeaders(
  request: IncomingMessage,
  response: ServerResponse,
): void {
  response.setHeader(SERVER_HEADER, SERVER_HEADER_VALUE);
  response.setHeader(
    "access-control-allow-origin",
    request.headers.origin ?? "*",
  );
  response.setHeader(
    "access-control-allow-methods",
    "GET, POST, HEAD, DELETE, OPTIONS",
  );
  response.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  if (request.headers.origin) response.setHeader("vary", "Origin");
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string>,
): void {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    ...headers,
  });
  response.end(body);
}

function secretMatches(query: URLSearchParams, secret: string): boolean {
  const given = query.get(SECRET_PARAM) ?? query.get(LEGACY_SECRET_PARAM);
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

function isPostgresUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code ?? "";
  return (
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code.startsWith("08") ||
    code === "57P01" ||
    code === "57P03" ||
    (error instanceof Error && /Connection terminated/i.test(error.message))
  );
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

function errorText(error: unknown): string {
  return error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
}

export { dropReplication };
