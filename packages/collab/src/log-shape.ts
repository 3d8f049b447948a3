/**
 * How a provider asks for its document's log: the shape is always `doc_updates` where
 * `field = $1 AND row_id = $2`, but who spells that out differs. Against Electric (or the kit's
 * sync server) the client sends it; behind an authorising proxy the server does, from a named
 * shape and its arguments, and the client only names them.
 */
import type { ShapeStreamOptions } from "@electric-sql/client";

import type { CollabFieldKey } from "@repo/schema";

/** The request part of the log's `ShapeStream` options. */
export type LogShapeRequest = Pick<
  ShapeStreamOptions<unknown>,
  "url" | "params" | "headers"
>;

export type LogShape = (log: {
  field: CollabFieldKey;
  rowId: string;
}) => LogShapeRequest;

/** Columns the provider reads (`id` too: Electric requires the primary key). */
const LOG_COLUMNS = ["id", "update", "client_id"];

/**
 * The log's shape spelled out for Electric or the sync server at `url` (`…/v1/shape`), beside
 * `params` of your own (e.g. the sync server's `secret`).
 */
export function directLogShape(options: {
  url: string;
  params?: Record<string, string>;
  headers?: Record<string, string>;
}): LogShape {
  return ({ field, rowId }) => ({
    url: options.url,
    params: {
      ...options.params,
      table: "doc_updates",
      where: "field = $1 AND row_id = $2",
      params: [field, rowId],
      columns: LOG_COLUMNS,
    },
    ...(options.headers && { headers: options.headers }),
  });
}

/**
 * The log's shape through an app's proxy that serves it by name with `field` and `row` (the
 * web app's `/api/shapes/doc-updates`, packages/api/src/shapes/catalog.ts): the proxy checks the
 * user may read the row and sets table, where, params and columns itself.
 */
export function proxiedLogShape(
  url: string,
  headers?: Record<string, string>,
): LogShape {
  return ({ field, rowId }) => ({
    url,
    params: { field, row: rowId },
    ...(headers && { headers }),
  });
}
