/**
 * The SQL of collaborative documents: `doc_states` (the compacted state) and `doc_updates`
 * (the log). Statements take a `TxQuery` (a transaction's connection, or `dbQuery` outside
 * one) and are named, so each is prepared once per connection.
 */
import type { Db, TxQuery } from "@repo/db";
import type { CollabFieldKey, ProjectRole } from "@repo/schema";
import { LOCK_NAMESPACE } from "@repo/db";
import { COLLAB_FIELDS } from "@repo/schema";

import { docLockKey, serverField } from "./fields";

/**
 * Document locks are `pg_advisory_xact_lock(LOCK_NAMESPACE, hashtext(docLockKey(…)))`: the
 * lock `runWithTxid`'s `lockKey` takes with `BEGIN`, so a coalesced write (group-commit.ts) gets
 * it without a round trip of its own. Keys never clash with the mutation log's client ids
 * (uuids): they start with the field's name.
 */

export interface StoredDoc {
  /** The compacted state, if asked for and present (a document never written has none). */
  state: Uint8Array | null;
  /** Whether `doc_states` has a row (the seed or a compaction wrote it). */
  hasState: boolean;
  /** `doc_states.folded_through`: every row of the document up to this id is in `state`. */
  foldedThrough: bigint;
  /** Log rows from the asked id on, in id order. */
  updates: { id: bigint; update: Uint8Array }[];
}

/** `TxQuery` over the client's own pool, for reads outside a transaction. */
export const dbQuery =
  (db: Pick<Db, "$queryRawUnsafe">): TxQuery =>
  (sql, values) =>
    db.$queryRawUnsafe(sql, ...values);

/** Bytes as the driver returns them (pg: `Buffer`; Prisma's raw path: `Uint8Array`). */
const asBytes = (value: unknown): Uint8Array => {
  if (value instanceof Uint8Array) return value;
  throw new Error(`expected bytea, got ${typeof value}`);
};

/**
 * The document in rows of a read that lists it as `kind` 0 (the state row: bytes and
 * `folded_through` as `ord`) and 1 (log rows: update and id as `ord`), in that order.
 */
export function storedDocOf(
  rows: readonly { kind: number; bytes: unknown; ord: string }[],
): StoredDoc {
  const stateRow = rows[0]?.kind === 0 ? rows[0] : undefined;
  return {
    state:
      stateRow?.bytes !== null && stateRow?.bytes !== undefined
        ? asBytes(stateRow.bytes)
        : null,
    hasState: stateRow !== undefined,
    foldedThrough: BigInt(stateRow?.ord ?? 0),
    updates: rows
      .filter((row) => row.kind === 1)
      .map((row) => ({ id: BigInt(row.ord), update: asBytes(row.bytes) })),
  };
}

/**
 * How a writer's authorisation read locks its rows until commit. The membership `m` is
 * share-locked: a role change or removal waits for the write it would have refused. The owning
 * row `r` is key-share-locked: it cannot be deleted meanwhile (its project, on which the
 * membership depends, is never changed by any mutation), yet compaction's update of its
 * projection column (`FOR NO KEY UPDATE`) does not conflict, so writers never wait for a
 * compaction's transaction, which writes the whole state and flushes it.
 */
export const ACCESS_LOCKS = "FOR KEY SHARE OF r FOR SHARE OF m";

/**
 * One document's state (if `withState`) and its log rows with `id >= fromId`, in one statement
 * (one snapshot: a compaction deleting rows cannot fall between the two reads). With
 * `accessOf`, also that user's role on the document's row (null: the user may not see the row),
 * the rows locked until commit as `ACCESS_LOCKS` says.
 */
export async function readStoredDoc(
  query: TxQuery,
  key: CollabFieldKey,
  rowId: string,
  options: { withState: boolean; fromId: bigint; accessOf?: string },
): Promise<StoredDoc & { role: ProjectRole | null }> {
  const access = options.accessOf !== undefined;
  const field = serverField(key);
  const rows = await query<{
    kind: number;
    bytes: unknown;
    ord: string;
  }>(
    `${access ? `WITH access AS (SELECT m.role::text AS role ${field.scope("$2", "= $5::uuid")} ${ACCESS_LOCKS})` : ""}
     SELECT 0 AS kind, CASE WHEN $3::boolean THEN s.state END AS bytes,
            s.folded_through::text AS ord, s.folded_through AS seq
       FROM doc_states s WHERE s.field = $1 AND s.row_id = $2::uuid
     UNION ALL
     SELECT 1, u.update, u.id::text, u.id
       FROM doc_updates u WHERE u.field = $1 AND u.row_id = $2::uuid AND u.id >= $4::bigint
     ${access ? "UNION ALL SELECT 2, NULL, role, 0 FROM access" : ""}
     ORDER BY kind, seq`,
    access
      ? [
          key,
          rowId,
          options.withState,
          options.fromId.toString(),
          options.accessOf,
        ]
      : [key, rowId, options.withState, options.fromId.toString()],
    access ? `collab_read_doc_${key}` : "collab_read_doc",
  );
  return {
    ...storedDocOf(rows),
    role:
      (rows.find((row) => row.kind === 2)?.ord as ProjectRole | undefined) ??
      null,
  };
}

/**
 * Takes the document's lock (held to the end of the transaction): writers of a document run
 * one at a time, and each reads the log after the previous one committed. Returns the name of the database (and
 * server port): the key of the process's warm documents.
 */
export async function lockDoc(
  query: TxQuery,
  key: CollabFieldKey,
  rowId: string,
): Promise<string> {
  const [row] = await query<{ database: string }>(
    `SELECT current_database() || ':' || coalesce(inet_server_port()::text, '') AS database,
            pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext($1)) IS NULL AS locked`,
    [docLockKey(key, rowId)],
    "collab_lock_doc",
  );
  if (!row) throw new Error("SELECT returned no row");
  return row.database;
}

/** The user's role on the document's row and the row's projection text (reads, no locks). */
export async function readAccess(
  query: TxQuery,
  key: CollabFieldKey,
  rowId: string,
  userId: string,
): Promise<{ role: ProjectRole; projection: string } | null> {
  const field = serverField(key);
  const [row] = await query<{ role: ProjectRole; projection: string }>(
    `SELECT m.role::text AS role, r.${field.columnSql} AS projection ${field.scope("$1", "= $2::uuid")}`,
    [rowId, userId],
    `collab_access_${key}`,
  );
  return row ?? null;
}

/** The projection column's current text (the seed of a document never written). */
export async function readProjection(
  query: TxQuery,
  key: CollabFieldKey,
  rowId: string,
): Promise<string | null> {
  const field = serverField(key);
  const [row] = await query<{ text: string }>(
    `SELECT ${field.columnSql} AS text FROM ${field.tableSql} WHERE id = $1::uuid`,
    [rowId],
    `collab_projection_${key}`,
  );
  return row?.text ?? null;
}

/** Stores a document's first state (its seed) unless one exists; true if this call stored it. */
export async function insertSeed(
  query: TxQuery,
  key: CollabFieldKey,
  rowId: string,
  state: Uint8Array,
): Promise<boolean> {
  const rows = await query(
    `INSERT INTO doc_states (field, row_id, state) VALUES ($1, $2::uuid, $3)
     ON CONFLICT DO NOTHING RETURNING 1 AS stored`,
    [key, rowId, state],
    "collab_insert_seed",
  );
  return rows.length > 0;
}

/** Appends an accepted update to the log; returns its id. */
export async function appendUpdate(
  query: TxQuery,
  entry: {
    key: CollabFieldKey;
    rowId: string;
    update: Uint8Array;
    clientId: string;
    /** The writing runtime's, when its relay hands the row to followers (origin.ts). */
    origin: string | null;
  },
): Promise<bigint> {
  const [row] = await query<{ id: string }>(
    `INSERT INTO doc_updates (field, row_id, update, client_id, origin)
     VALUES ($1, $2::uuid, $3, $4::uuid, $5::uuid) RETURNING id::text AS id`,
    [entry.key, entry.rowId, entry.update, entry.clientId, entry.origin],
    "collab_append",
  );
  if (!row) throw new Error("INSERT … RETURNING returned no row");
  return BigInt(row.id);
}

/**
 * Compaction's locks: the owning row (for its projection column) and the state row (so two
 * compactions run one after the other), not the document's lock: writers append meanwhile,
 * with ids above every row the compaction read (a document's writers commit in id order under
 * its lock), and its delete takes exactly the rows it read. Writers key-share-lock the owning
 * row (`ACCESS_LOCKS`), which this does not wait for nor block. Returns the state row's
 * `folded_through` (null: no state row) or `undefined` if the owning row is gone.
 */
export async function lockDocForCompaction(
  query: TxQuery,
  key: CollabFieldKey,
  rowId: string,
): Promise<bigint | null | undefined> {
  const field = serverField(key);
  const owner = await query(
    `SELECT 1 AS found FROM ${field.tableSql} WHERE id = $1::uuid FOR NO KEY UPDATE`,
    [rowId],
    `collab_lock_owner_${key}`,
  );
  if (owner.length === 0) return undefined;
  const [state] = await query<{ folded_through: string }>(
    `SELECT folded_through::text AS folded_through FROM doc_states
      WHERE field = $1 AND row_id = $2::uuid FOR UPDATE`,
    [key, rowId],
    "collab_state_for_update",
  );
  return state ? BigInt(state.folded_through) : null;
}

/**
 * Writes a compaction: the new state (rows up to `throughId` folded), the projection column,
 * and deletes the folded rows.
 */
export async function writeCompaction(
  query: TxQuery,
  compaction: {
    key: CollabFieldKey;
    rowId: string;
    state: Uint8Array;
    text: string;
    throughId: bigint;
    count: number;
  },
): Promise<void> {
  const { key, rowId } = compaction;
  const field = serverField(key);
  await query(
    `INSERT INTO doc_states (field, row_id, state, folded, folded_through, updated_at)
     VALUES ($1, $2::uuid, $3, $4::bigint, $5::bigint, now())
     ON CONFLICT (field, row_id) DO UPDATE
       SET state = EXCLUDED.state, folded = doc_states.folded + EXCLUDED.folded,
           folded_through = EXCLUDED.folded_through, updated_at = now()`,
    [
      key,
      rowId,
      compaction.state,
      compaction.count,
      compaction.throughId.toString(),
    ],
    "collab_write_state",
  );
  // Only when the text changed: an unchanged row would still be a change in every shape.
  await query(
    `UPDATE ${field.tableSql} SET ${field.columnSql} = $2
      WHERE id = $1::uuid AND ${field.columnSql} IS DISTINCT FROM $2`,
    [rowId, compaction.text],
    `collab_projection_write_${key}`,
  );
  await query(
    `DELETE FROM doc_updates WHERE field = $1 AND row_id = $2::uuid AND id <= $3::bigint`,
    [key, rowId, compaction.throughId.toString()],
    "collab_delete_folded",
  );
}

/** Documents due for compaction: at least `minRows` log rows, or one older than `maxAgeMs`. */
export async function dueDocs(
  query: TxQuery,
  options: { minRows: number; maxAgeMs: number; limit: number },
): Promise<{ key: CollabFieldKey; rowId: string }[]> {
  const rows = await query<{ field: CollabFieldKey; row_id: string }>(
    `SELECT field, row_id::text AS row_id FROM doc_updates
      GROUP BY field, row_id
     HAVING count(*) >= $1 OR min(created_at) < now() - $2::int * interval '1 millisecond'
      LIMIT $3`,
    [options.minRows, options.maxAgeMs, options.limit],
  );
  // A field no longer declared keeps its rows until someone decides what they mean.
  return rows
    .filter((row) => Object.hasOwn(COLLAB_FIELDS, row.field))
    .map((row) => ({ key: row.field, rowId: row.row_id }));
}
