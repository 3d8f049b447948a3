import type {
  ExternalHeadersRecord,
  ExternalParamsRecord,
  Row,
} from "@electric-sql/client";
import { Shape, ShapeStream, snakeCamelMapper } from "@electric-sql/client";

import type { CollabFieldKey, PresenceRow } from "@repo/schema";
import { PresenceRowSchema, SHAPE_PARSER } from "@repo/schema";

import type { PresenceSource } from "./bind-presence";

export interface PresenceShapeOptions {
  /** The shape endpoint: the app's authorising proxy, or a sync server's `/v1/shape`. */
  url: string;
  field: CollabFieldKey;
  rowId: string;
  /**
   * Request parameters beside the shape's own (the `presence` table where `field = $1 AND
   * row_id = $2`), e.g. a sync server's `secret`. An authorising proxy pins table and where
   * server-side; what it is told here is only what it checks against.
   */
  params?: ExternalParamsRecord;
  headers?: ExternalHeadersRecord;
  fetchClient?: typeof fetch;
  /** Shape errors (the stream retries by itself). Default: `console.warn`. */
  onError?: (error: Error) => void;
}

/**
 * The presence rows of one document through Electric's `ShapeStream`. Rows that are not
 * presence rows of this document (a proxy misconfigured, a schema change) are skipped.
 */
export function presenceShape(options: PresenceShapeOptions): PresenceSource {
  return (onRows) => {
    const controller = new AbortController();
    const stream = new ShapeStream<Row<unknown>>({
      url: options.url,
      params: {
        table: "presence",
        where: "field = $1 AND row_id = $2",
        params: [options.field, options.rowId],
        // Whole rows in updates: a follower that lacks a row's insert builds it from the next
        // heartbeat. Changed columns alone (the default) lack `field`, `row_id` and `user_id`,
        // the row never parsed, and that tab stayed invisible to it (a browser-test flake).
        replica: "full",
        ...options.params,
      },
      ...(options.headers && { headers: options.headers }),
      ...(options.fetchClient && { fetchClient: options.fetchClient }),
      parser: SHAPE_PARSER,
      columnMapper: snakeCamelMapper(),
      signal: controller.signal,
      onError: (error) => {
        (options.onError ?? ((e: Error) => console.warn("presence shape", e)))(
          error,
        );
        // Keep following with the same parameters.
        return {};
      },
    });
    const shape = new Shape(stream);
    const unsubscribe = shape.subscribe(({ rows }) => {
      const presence: PresenceRow[] = [];
      for (const row of rows) {
        const parsed = PresenceRowSchema.safeParse(row);
        if (
          parsed.success &&
          parsed.data.field === options.field &&
          parsed.data.rowId === options.rowId
        )
          presence.push(parsed.data);
      }
      onRows(presence);
    });
    return () => {
      unsubscribe();
      controller.abort();
    };
  };
}
