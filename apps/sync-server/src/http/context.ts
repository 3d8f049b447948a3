/**
 * What the HTTP modules share: the server-wide state (`ServerContext`, built once at start) and
 * the one object a shape request travels as through them (`ShapeExchange`, then `ShapeRead`
 * once its shape is resolved).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type pg from "pg";

import type { Logger } from "../logger";
import type { ShapeRequest } from "../protocol/request";
import type { ReplicationStream } from "../replication/replication-stream";
import type { ShapeDefinition } from "../shapes/definition";
import type { QualifiedName } from "../shapes/identifiers";
import type { Shape } from "../shapes/shape";
import type { ShapeManager } from "../shapes/shape-manager";
import type { ParsedRequestCache } from "./parsed-request-cache";

/** Timing and size settings of the HTTP layer (defaults in server.ts). */
interface HttpSettings {
  longPollTimeoutMs: number;
  sseTimeoutMs: number;
  sseKeepAliveMs: number;
  /** Bytes of JSON per chunk of a shape log (`ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD`). */
  chunkBytes: number;
}

export interface ServerContext {
  shapes: ShapeManager;
  replication: ReplicationStream;
  logger: Logger;
  settings: HttpSettings;
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

/** A `GET`/`HEAD` of a shape log, validated but not yet resolved to a shape. */
export interface ShapeExchange {
  readonly server: ServerContext;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly shapeRequest: ShapeRequest;
  readonly definition: ShapeDefinition;
}

/** A shape exchange whose shape was found (or created) and may be served. */
export interface ShapeRead extends ShapeExchange {
  readonly shape: Shape;
}
