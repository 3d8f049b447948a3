/**
 * Server rendering: read a shape once on the server and hand the browser what it needs to
 * continue from exactly there — the rows it rendered, the shape's handle and the offset after
 * them — so the page hydrates with the same rows and the live stream resumes without a second
 * full load.
 */
import type { Offset, Row } from "@electric-sql/client";
import { ShapeStream } from "@electric-sql/client";

import type { RowOf, TableName } from "@repo/schema";

import type { ShapeDefinition } from "./shape-registry";
import { streamOptions } from "./shape-registry";
import { SyncedRowsOfShape } from "./synced-shape";

export interface InitialShape<TTable extends TableName> {
  handle: string;
  offset: Offset;
  rows: RowOf<TTable>[];
}

/**
 * Fetches a shape up to date (no live requests) for a server render; pass the result as the
 * shape's `initial` on both sides (serialise with superjson: rows hold `Date`s).
 *
 * @example
 * const initial = await loadShape({ url: `${ELECTRIC_URL}/v1/shape`, params: { secret },
 *   shape: { table: "issues", where: "project_id = $1", params: [id] } });
 */
export async function loadShape<TTable extends TableName>(options: {
  url: string;
  shape: Omit<ShapeDefinition<TTable>, "initial" | "matches">;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * How requests are made (default `fetch`): a server can answer them in-process, e.g. through
   * its own shape proxy's handler, instead of calling itself over HTTP.
   */
  fetchClient?: typeof fetch;
}): Promise<InitialShape<TTable>> {
  const { shape } = options;
  const stream = new ShapeStream<Row<unknown>>({
    ...streamOptions(options.url, shape, options),
    subscribe: false,
    ...(options.signal && { signal: options.signal }),
    ...(options.fetchClient && { fetchClient: options.fetchClient }),
  });
  const synced = new SyncedRowsOfShape(shape.table);
  try {
    await new Promise<void>((resolve, reject) => {
      stream.subscribe(
        (messages) => {
          if (synced.receive(messages)) resolve();
        },
        (error) => reject(error),
      );
    });
  } finally {
    stream.unsubscribeAll();
  }
  const handle = stream.shapeHandle;
  if (!handle)
    throw new Error(`shape ${shape.table} answered without a handle`);
  return {
    handle,
    offset: stream.lastOffset,
    rows: [...synced.rows.values()] as RowOf<TTable>[],
  };
}
