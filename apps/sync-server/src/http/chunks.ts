/**
 * Non-live answers of the shape log: one chunk of entries after the requested offset, with
 * Electric's headers (handle, offset, schema or cursor, up-to-date, cache-control, etag) and
 * a body encoded once for every client reading the same chunk. A snapshot chunk still being
 * written is streamed as its rows arrive (its offset, and so its headers, are known already).
 */
import type { LogOffset } from "../protocol/offset";
import type { LogChunk } from "../shapes/shape-log";
import type { ShapeRead } from "./context";
import {
  CACHE_MAX_AGE,
  CACHE_STALE_AGE,
  CHUNK_LAST_OFFSET_HEADER,
  CHUNK_UP_TO_DATE_HEADER,
  HAS_DATA_HEADER,
  LIVE_CACHE_BUSTER_HEADER,
  SHAPE_HANDLE_HEADER,
  SHAPE_SCHEMA_HEADER,
} from "../protocol/constants";
import { nextCursor } from "../protocol/cursor";
import { upToDateMessage } from "../protocol/messages";
import { formatOffset } from "../protocol/offset";

export function serveChunk(read: ShapeRead, offset: LogOffset): void {
  const { shape, server } = read;
  const chunk = shape.log.read(offset, server.settings.chunkBytes);
  // A snapshot chunk (the offset=-1 answer included) is never up-to-date: its offset is
  // before the snapshot's end, and Electric keeps the -1 answer long-cacheable.
  sendShapeChunk(read, {
    log: chunk,
    requested: offset,
    upToDate: chunk.atEnd && shape.state === "ready",
  });
}

export interface ChunkToSend {
  /** The log's (cached, shared) chunk; none for an answer without entries at `requested`. */
  log?: LogChunk;
  requested: LogOffset;
  upToDate: boolean;
}

export function sendShapeChunk(read: ShapeRead, chunk: ChunkToSend): void {
  const { server, request, response, shape, shapeRequest } = read;
  const lastOffset = chunk.log?.lastOffset ?? chunk.requested;
  const hasData = (chunk.log?.entries.length ?? 0) > 0;
  const headers: Record<string, string> = {
    [SHAPE_HANDLE_HEADER]: shape.handle,
    [CHUNK_LAST_OFFSET_HEADER]: formatOffset(lastOffset),
    [HAS_DATA_HEADER]: hasData ? "true" : "false",
    "cache-control": cacheControl(read),
  };
  if (!shapeRequest.live) headers[SHAPE_SCHEMA_HEADER] = shape.schemaHeader;
  else
    headers[LIVE_CACHE_BUSTER_HEADER] = nextCursor(
      server.settings.longPollTimeoutMs,
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
  if (request.method === "HEAD") response.end();
  else if (chunk.log && !chunk.log.complete) streamChunk(read, chunk.log);
  else
    response.end(
      encodedBody(chunk.log, chunk.upToDate ? maxLsn(read) : undefined),
    );
}

/**
 * The body of a snapshot chunk still being written: what is there now, then its rows as the
 * snapshot appends them, closed when the chunk is. If the shape fails meanwhile the response
 * is cut off, and the client's retry gets the error (or 409).
 */
function streamChunk(read: ShapeRead, first: LogChunk): void {
  const { server, response, shape } = read;
  let chunk = first;
  let empty = first.entries.length === 0;
  response.write(`[${first.joined}`);
  const stop = () => {
    unsubscribe();
    server.liveResponses.delete(cutOff);
    response.off("close", stop);
  };
  const cutOff = () => {
    stop();
    response.destroy();
  };
  const onAppend = () => {
    if (shape.state === "invalid") {
      cutOff();
      return;
    }
    chunk = shape.log.readMore(chunk);
    if (chunk.entries.length > 0) {
      response.write(empty ? chunk.joined : `,${chunk.joined}`);
      empty = false;
    }
    if (chunk.complete) {
      stop();
      response.end("]");
    }
  };
  const unsubscribe = shape.subscribe(onAppend);
  server.liveResponses.add(cutOff);
  response.on("close", stop);
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

/** Electric's cache lifetimes per kind of answer (SPEC.md "Caching"). */
export function cacheControl({ shapeRequest }: ShapeRead): string {
  if (shapeRequest.liveSse) return `public, max-age=59`;
  if (shapeRequest.live) return "public, max-age=5, stale-while-revalidate=5";
  if (shapeRequest.offset !== "now" && shapeRequest.offset.tx < 0n)
    return "public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746";
  return `public, max-age=${CACHE_MAX_AGE}, stale-while-revalidate=${CACHE_STALE_AGE}`;
}

/** Highest LSN this shape's readers have seen: the global position, or its log end. */
export function maxLsn({ server, shape }: ShapeRead): bigint {
  const global = server.replication.lastSeenLsn;
  const own = shape.log.lastOffset.tx;
  return global > own ? global : own;
}
