/**
 * The initial snapshot of a shape: a REPEATABLE READ, READ ONLY transaction whose first
 * statement records `pg_current_snapshot()` (so rows and snapshot agree), then the shape's
 * rows through a cursor in batches, so a large table never sits in memory twice; the log
 * numbers them in chunks of about `chunkBytes`.
 */
import type pg from "pg";

import type { Shape } from "./shape";
import { asError } from "../error-text";
import { RAW_TEXT_TYPES } from "../replication/postgres-settings";
import { qualifiedSql, quoteIdentifier } from "./identifiers";
import { parsePgSnapshot } from "./snapshot-visibility";

const FETCH_SIZE = 5000;

export async function takeSnapshot(
  pool: pg.Pool,
  shape: Shape,
  chunkBytes: number,
): Promise<void> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    // Postgres away, or the server stopping (its pool ended): the shape fails like any other
    // snapshot, and nothing rejects unheard (the caller does not await it).
    shape.failSnapshot(asError(error));
    return;
  }
  let failed = false;
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const { rows } = await client.query<{ snapshot: string }>(
      "SELECT pg_current_snapshot()::text AS snapshot",
    );
    const snapshotText = rows[0]?.snapshot ?? "";
    if (shape.definition.log === "full") {
      const columns = shape.selectedColumnNames.map(quoteIdentifier).join(", ");
      const where = shape.where ? ` WHERE ${shape.where.sql}` : "";
      await client.query({
        text: `DECLARE shape_snapshot NO SCROLL CURSOR FOR SELECT ${columns} FROM ${qualifiedSql(shape.table)}${where}`,
        values: shape.where ? [...shape.where.paramTexts] : [],
      });
      for (;;) {
        const batch = await client.query<(string | null)[]>({
          text: `FETCH ${FETCH_SIZE} FROM shape_snapshot`,
          rowMode: "array",
          types: RAW_TEXT_TYPES,
        });
        shape.appendSnapshotRows(batch.rows, chunkBytes);
        if (batch.rows.length < FETCH_SIZE) break;
      }
    }
    await client.query("COMMIT");
    const snapshot = parsePgSnapshot(snapshotText);
    shape.finishSnapshot(snapshot, {
      xmin: snapshot.xmin.toString(),
      xmax: snapshot.xmax.toString(),
      xip_list: [...snapshot.xip].map(String),
    });
  } catch (error) {
    failed = true;
    await client.query("ROLLBACK").catch(() => undefined);
    shape.failSnapshot(asError(error));
  } finally {
    client.release(failed);
  }
}
