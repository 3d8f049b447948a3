/**
 * `GET|HEAD /v1/shape` once validated: resolve the shape, then answer `offset=now`, a chunk,
 * a held long-poll or an SSE stream (SPEC.md "Request rules").
 */
import type { ShapeExchange } from "./context";
import { InvalidRequestError } from "../protocol/errors";
import { maxLsn, sendShapeChunk, serveChunk } from "./chunks";
import { holdUntilChange, serveSse } from "./live";
import { resolveShape } from "./resolve";

export async function serveShape(exchange: ShapeExchange): Promise<void> {
  const shape = await resolveShape(exchange, true);
  const read = { ...exchange, shape };
  const { shapeRequest, server } = read;
  shape.lastUsedAt = Date.now();

  if (shapeRequest.offset === "now") {
    sendShapeChunk(read, { requested: shape.log.lastOffset, upToDate: true });
    return;
  }
  const offset = shapeRequest.offset;
  const known = maxLsn(read);
  const walAtStart = server.replication.walPositionAtStart;
  const bound = (known > walAtStart ? known : walAtStart) + 1n;
  if (offset.tx > bound)
    throw InvalidRequestError.of("offset", "out of bounds for this shape");

  if (!shapeRequest.live || shape.log.hasEntriesAfter(offset)) {
    if (shapeRequest.live && shapeRequest.liveSse) {
      serveSse(read, offset);
      return;
    }
    serveChunk(read, offset);
    return;
  }
  if (shapeRequest.liveSse) {
    serveSse(read, offset);
    return;
  }
  await holdUntilChange(read, offset);
}
