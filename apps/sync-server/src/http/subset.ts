/**
 * Subset snapshots (SPEC.md "Subset parameters"): `GET` with `subset__*` parameters or `POST`
 * with a JSON body; the rows of the shape narrowed further, with the snapshot they were read in.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

import type { ServerContext } from "./context";
import {
  CHUNK_LAST_OFFSET_HEADER,
  SHAPE_HANDLE_HEADER,
  SHAPE_SCHEMA_HEADER,
  SUBSET_PARAM_PREFIX,
} from "../protocol/constants";
import { InvalidRequestError } from "../protocol/errors";
import { formatOffset } from "../protocol/offset";
import { parseShapeRequest } from "../protocol/request";
import { parseSubsetRequest, runSubsetSnapshot } from "../shapes/subset";
import { PayloadTooLargeError } from "./error-response";
import { resolveShape, toDefinition } from "./resolve";
import { sendJson } from "./respond";

export function hasSubsetParams(url: URL): boolean {
  for (const key of url.searchParams.keys())
    if (key.startsWith(SUBSET_PARAM_PREFIX)) return true;
  return false;
}

export function subsetFromQuery(url: URL): Record<string, unknown> {
  const source: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams)
    if (key.startsWith(SUBSET_PARAM_PREFIX))
      source[key.slice(SUBSET_PARAM_PREFIX.length)] = value;
  return source;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function readJsonBody(
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

export interface SubsetExchange {
  readonly server: ServerContext;
  readonly url: URL;
  readonly response: ServerResponse;
  /** The subset parameters: `subset__*` of the query, or the POST body. */
  readonly source: Record<string, unknown>;
}

export async function serveSubset({
  server,
  url,
  response,
  source,
}: SubsetExchange): Promise<void> {
  const shapeRequest = parseShapeRequest(url.searchParams);
  const subset = parseSubsetRequest(source);
  const definition = toDefinition(server, shapeRequest);
  const shape = await resolveShape({ server, shapeRequest, definition });
  shape.lastUsedAt = Date.now();
  // The client resumes its stream from this offset, so it is the log end before the subset's
  // snapshot is taken (as in Electric, which reads it before the query): a transaction that
  // commits after the snapshot, and so is missing from it, is appended after it. Read after
  // the query, it could be past such a transaction, which the client then never got.
  const logEnd = shape.log.lastOffset;
  const result = await runSubsetSnapshot(server.pool, shape, subset);
  sendJson(response, 200, result.body, {
    "cache-control": "no-cache",
    "electric-snapshot": "true",
    [SHAPE_HANDLE_HEADER]: shape.handle,
    [CHUNK_LAST_OFFSET_HEADER]: formatOffset(logEnd),
    [SHAPE_SCHEMA_HEADER]: shape.schemaHeader,
  });
}
