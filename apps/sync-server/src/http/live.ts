/**
 * Live reads (SPEC.md "Request rules" 4–5): a long-poll held until the shape gets entries, is
 * invalidated (409) or times out (`[up-to-date]`); an SSE stream that writes each transaction
 * as it is appended, with keep-alives, closed after `sseTimeoutMs` (the client reconnects).
 */
import type { LogOffset } from "../protocol/offset";
import type { LogChunk } from "../shapes/shape-log";
import type { ShapeRead } from "./context";
import {
  CHUNK_LAST_OFFSET_HEADER,
  LIVE_CACHE_BUSTER_HEADER,
  SHAPE_HANDLE_HEADER,
} from "../protocol/constants";
import { nextCursor } from "../protocol/cursor";
import { MustRefetchError } from "../protocol/errors";
import { upToDateMessage } from "../protocol/messages";
import { formatOffset } from "../protocol/offset";
import { cacheControl, sendShapeChunk, serveChunk } from "./chunks";
import { sendError } from "./error-response";
import { currentHandle } from "./resolve";

/** Long-poll: answer as soon as the shape gets entries, or with up-to-date at the timeout. */
export function holdUntilChange(
  read: ShapeRead,
  offset: LogOffset,
): Promise<void> {
  const { server, response, shape, definition } = read;
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = (send: () => void | Promise<void>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      server.liveResponses.delete(endNow);
      response.off("close", onClose);
      Promise.resolve()
        .then(send)
        .catch((error: unknown) => sendError(server.logger, response, error))
        .finally(resolve);
    };
    const respondTimeout = () =>
      sendShapeChunk(read, { requested: offset, upToDate: true });
    const onChange = () => {
      if (shape.state === "invalid") {
        finish(async () => {
          throw new MustRefetchError(await currentHandle(server, definition));
        });
      } else if (shape.log.hasEntriesAfter(offset)) {
        finish(() => serveChunk(read, offset));
      }
    };
    const endNow = () => finish(respondTimeout);
    const onClose = () => finish(() => undefined);
    const unsubscribe = shape.subscribe(onChange);
    const timer = setTimeout(
      () => finish(respondTimeout),
      server.settings.longPollTimeoutMs,
    );
    server.liveResponses.add(endNow);
    response.on("close", onClose);
    shape.lastUsedAt = Date.now();
  });
}

/**
 * SSE live mode: one `data:` event per message, `up-to-date` after each batch, keep-alive
 * comments, closed after `sseTimeoutMs` (the client reconnects). The up-to-date LSN is one past
 * the last transaction sent, because the client resumes from `<lsn>_0` and must not get the
 * later ops of that transaction again.
 */
export function serveSse(read: ShapeRead, from: LogOffset): void {
  const { server, response, shape, shapeRequest } = read;
  let position = from;
  response.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": cacheControl(read),
    connection: "keep-alive",
    [SHAPE_HANDLE_HEADER]: shape.handle,
    [CHUNK_LAST_OFFSET_HEADER]: formatOffset(from),
    [LIVE_CACHE_BUSTER_HEADER]: nextCursor(
      server.settings.longPollTimeoutMs,
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
      const chunk = shape.log.read(position, server.settings.chunkBytes);
      if (chunk.entries.length === 0) break;
      position = chunk.lastOffset;
      // The up-to-date event goes with the chunk that reaches the log end, in the same write.
      response.write(
        sseEvents(chunk, chunk.atEnd ? sseResumeLsn(read) : undefined),
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
    server.liveResponses.delete(end);
    response.end();
  };
  const unsubscribe = shape.subscribe(flush);
  const keepAlive = setInterval(
    () => response.write(": keep-alive\n\n"),
    server.settings.sseKeepAliveMs,
  );
  const timeout = setTimeout(end, server.settings.sseTimeoutMs);
  server.liveResponses.add(end);
  response.on("close", end);
  shape.lastUsedAt = Date.now();
  flush();
}

/**
 * SSE resume point: the client reconnects from `<global_last_seen_lsn>_0`, so this must be past
 * every entry sent and before any future commit: one past the last commit LSN (commit records
 * are far more than one byte apart), never a keepalive position a commit could start at.
 */
function sseResumeLsn({ server, shape }: ShapeRead): bigint {
  const commit = server.replication.lastCommitLsn;
  const own = shape.log.lastOffset.tx;
  return (commit > own ? commit : own) + 1n;
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
