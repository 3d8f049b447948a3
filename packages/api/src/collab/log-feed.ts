/**
 * The relay's view of writes made elsewhere: one `ShapeStream` of a document's log
 * (`doc_updates`), read by this api process from Electric (or the kit's sync server) while the
 * document has followers here, without the rows this runtime wrote (their `origin` is its own:
 * the relay has them at commit, and Electric need not send them nor this process parse them
 * again). With it the relay is complete: an edit committed by another api process, a worker or
 * a script reaches this process' followers too, a few milliseconds after the WAL has it, and a
 * follower needs no shape of its own while it follows (one parse of each update per process
 * instead of one per client).
 */
import type { Row, ShapeStreamOptions } from "@electric-sql/client";
import {
  isChangeMessage,
  isControlMessage,
  ShapeStream,
} from "@electric-sql/client";

import type { CollabFieldKey, RelayedDocUpdate } from "@repo/schema";

import type { ElectricOptions } from "../shapes/proxy";
import { docUpdatesSpec } from "../shapes/catalog";
import { electricShapeUrl } from "../shapes/proxy";

export interface LogFeedHandlers {
  /** The feed has caught up: every row committed from now on will come through `onRows`. */
  onLive: () => void;
  /** Rows committed while live, in commit order. */
  onRows: (rows: RelayedDocUpdate[]) => void;
  /**
   * The feed lost its place (a must-refetch, or the stream gave up): rows may be missing
   * until it is live again.
   */
  onLost: (reason: unknown) => void;
}

export type LogFeed = (
  key: CollabFieldKey,
  rowId: string,
  handlers: LogFeedHandlers,
) => { stop: () => void };

/**
 * A `LogFeed` reading the log's shape from Electric with the server's own secret, without the
 * rows written with `origin` (the runtime's own: its relay hands them over at commit).
 */
export function electricLogFeed(
  electric: ElectricOptions,
  origin: string,
): LogFeed {
  const url = electricShapeUrl(electric.url).href;
  return (key, rowId, handlers) => {
    const aborter = new AbortController();
    const { table, where, params, columns } = docUpdatesSpec(
      key,
      rowId,
      origin,
    );
    const options: ShapeStreamOptions<unknown> = {
      url,
      params: {
        secret: electric.secret,
        ...(electric.sourceId && { source_id: electric.sourceId }),
        table,
        ...(where !== undefined && { where }),
        ...(params && { params }),
        columns: [...columns],
      },
      // bytea comes as `\x<hex>`; the relay sends base64, so the hex is converted, not parsed.
      parser: { bytea: (value) => String(value) },
      liveSse: true,
      signal: aborter.signal,
    };
    const stream = new ShapeStream<Row<unknown>>(options);
    let live = false;
    const unsubscribe = stream.subscribe(
      (messages) => {
        const rows: RelayedDocUpdate[] = [];
        for (const message of messages) {
          if (isChangeMessage(message)) {
            // Compaction's deletes change nothing; rows of the first snapshot are older than
            // any follower's load.
            if (!live || message.headers.operation !== "insert") continue;
            const { id, update, client_id: clientId } = message.value;
            rows.push({
              id: String(id),
              clientId: String(clientId),
              update: Buffer.from(String(update).slice(2), "hex").toString(
                "base64",
              ),
            });
          } else if (isControlMessage(message)) {
            if (message.headers.control === "must-refetch") {
              live = false;
              handlers.onLost(
                new Error("the log's shape must be fetched again"),
              );
            } else if (message.headers.control === "up-to-date" && !live) {
              live = true;
              handlers.onLive();
            }
          }
        }
        if (rows.length > 0) handlers.onRows(rows);
      },
      (error) => {
        live = false;
        handlers.onLost(error);
      },
    );
    return {
      stop: () => {
        unsubscribe();
        aborter.abort();
      },
    };
  };
}
