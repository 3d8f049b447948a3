/**
 * The statements of a coalesced `docs.update` transaction (group-commit.ts). On a warm document
 * the whole transaction is one round trip: `BEGIN`, its locks, the commit statement and
 * `COMMIT` travel together, and the statement checks in SQL what the read would have told.
 * Otherwise a read comes first (after `BEGIN` and the locks, in that round trip), then the
 * commit statement with `COMMIT`. Each is prepared once per connection and travels as
 * simple-protocol literals.
 */
import type { TxQuery } from "@repo/db";
import type { CollabFieldKey, ProjectRole } from "@repo/schema";

import type { StoredDoc } from "./store";
import { docLockKey, serverField } from "./fields";
import { ACCESS_LOCKS, storedDocOf } from "./store";

export interface BatchContext extends StoredDoc {
  /** Role of each user of the batch on the document's row (absent: may not see it). */
  roles: Map<string, ProjectRole>;
  /** Database and server port: the key of the process's warm documents. */
  database: string;
}

/**
 * Under the batch's locks (`batchLockKeys`, taken with `BEGIN`): the state (if `withState`),
 * log rows from `fromId` and the users' roles (their rows locked to commit: `ACCESS_LOCKS`).
 * The log's ordering check runs in the commit statement, which sees every call the clients'
 * locks waited for.
 */
export async function readBatchContext(
  query: TxQuery,
  key: CollabFieldKey,
  rowId: string,
  batch: {
    withState: boolean;
    fromId: bigint;
    userIds: string[];
  },
): Promise<BatchContext> {
  const field = serverField(key);
  const rows = await query<{
    kind: number;
    bytes: unknown;
    ord: string;
    extra: string | null;
  }>(
    `WITH access AS (
       SELECT m.user_id::text AS user_id, m.role::text AS role
       ${field.scope("$2", "= ANY($5::uuid[])")} ${ACCESS_LOCKS})
     SELECT 0 AS kind, CASE WHEN $3::boolean THEN s.state END AS bytes,
            s.folded_through::text AS ord, s.folded_through AS seq, NULL AS extra
       FROM doc_states s WHERE s.field = $1 AND s.row_id = $2::uuid
     UNION ALL
     SELECT 1, u.update, u.id::text, u.id, NULL
       FROM doc_updates u WHERE u.field = $1 AND u.row_id = $2::uuid AND u.id >= $4::bigint
     UNION ALL SELECT 2, NULL, role, 0, user_id FROM access
     UNION ALL
     SELECT 3, NULL, NULL, 0,
            current_database() || ':' || coalesce(inet_server_port()::text, '')
     ORDER BY kind, seq`,
    [
      key,
      rowId,
      batch.withState,
      batch.fromId.toString(),
      pgArray(batch.userIds),
    ],
    `collab_batch_read_${key}`,
  );
  const database = rows.find((row) => row.kind === 3)?.extra;
  if (!database) throw new Error("collab batch: no database name");
  return {
    ...storedDocOf(rows),
    roles: new Map(
      rows
        .filter((row) => row.kind === 2 && row.extra !== null)
        .map((row) => [row.extra ?? "", row.ord as ProjectRole]),
    ),
    database,
  };
}

/**
 * The advisory locks of a batch, in the order it takes them with `BEGIN`: its clients'
 * mutation-log locks (sorted: two batches never wait on each other in a circle), then the
 * document's. A call that runs alone takes its client's lock with `BEGIN` and the document's
 * after (write.ts): the same order, so neither waits for the other while holding what the
 * other needs.
 */
export function batchLockKeys(
  key: CollabFieldKey,
  rowId: string,
  clientIds: Iterable<string>,
): string[] {
  return [...[...new Set(clientIds)].sort(), docLockKey(key, rowId)];
}

/** One accepted call as the commit statement writes it. */
export interface BatchRow {
  clientId: string;
  mutationId: number;
  userId: string;
  /** The update, base64 (as the call carried it). */
  update: string;
  digest: string;
}

/**
 * The statement that travels with `COMMIT`: the batch's log rows (ids drawn in batch order,
 * under the document's lock, so they increase in commit order) and its calls' mutation-log
 * rows, whose data is `{ id }` as `encodeResult` writes it. Like the single path's log insert,
 * it refuses by failing (a NULL mutation id, SQLSTATE 23502) when a client has a row with this
 * or a later id, or one of another user, or when a call's user may not edit the document (its
 * membership share-locked to commit, `ACCESS_LOCKS`); Postgres then skips the `COMMIT` and
 * nothing of the batch is written.
 *
 * It returns the new rows' ids (kind 3, in batch order) and what a warm copy needs to catch
 * up: `folded_through` (kind 0) and the log rows from `$4` on (kind 1; bytes from after `$4`;
 * none when `$4` is null), as `storedDocOf` reads them. Its snapshot follows the locks: nothing
 * of the document is committed meanwhile.
 */
function batchCommitSql(key: CollabFieldKey): string {
  const known = commitSqlOf.get(key);
  if (known) return known;
  const field = serverField(key);
  const writers = field.writerRoles.map((role) => `'${role}'`).join(", ");
  const sql = `
  WITH calls AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(
      ord int, client_id uuid, mutation_id int, user_id uuid, "update" text, digest text)),
  access AS MATERIALIZED (
    SELECT m.user_id, m.role::text AS role
    ${field.scope("$3", "IN (SELECT user_id FROM calls)")} ${ACCESS_LOCKS}),
  ids AS MATERIALIZED (
    SELECT ord, nextval('doc_updates_id_seq') AS id FROM calls ORDER BY ord),
  appended AS (
    INSERT INTO doc_updates (id, field, row_id, update, client_id, origin)
    SELECT i.id, $2::text, $3::uuid, decode(c."update", 'base64'), c.client_id, $5::uuid
      FROM calls c JOIN ids i USING (ord)),
  logged AS (
    INSERT INTO mutation_log (client_id, mutation_id, user_id, name, txid, outcome, result,
                              args_digest)
    SELECT c.client_id,
           CASE WHEN EXISTS (
                  SELECT 1 FROM access a WHERE a.user_id = c.user_id AND a.role IN (${writers}))
                AND NOT EXISTS (
                  SELECT 1 FROM (SELECT mutation_id, user_id FROM mutation_log
                                  WHERE client_id = c.client_id
                                  ORDER BY mutation_id DESC LIMIT 1) latest
                   WHERE latest.mutation_id >= c.mutation_id OR latest.user_id <> c.user_id)
           THEN c.mutation_id END,
           c.user_id, 'docs.update', pg_current_xact_id()::xid::text::bigint, 'ok',
           jsonb_build_object('json', jsonb_build_object('id', i.id::text)), c.digest
      FROM calls c JOIN ids i USING (ord))
  SELECT 0 AS kind, NULL::bytea AS bytes, s.folded_through::text AS ord, s.folded_through AS seq
    FROM doc_states s WHERE s.field = $2 AND s.row_id = $3::uuid
  UNION ALL
  SELECT 1, CASE WHEN u.id > $4::bigint THEN u.update ELSE ''::bytea END, u.id::text, u.id
    FROM doc_updates u
   WHERE u.field = $2 AND u.row_id = $3::uuid AND u.id >= $4::bigint
  UNION ALL
  SELECT 3, NULL, id::text, ord FROM ids
  ORDER BY kind, seq`;
  commitSqlOf.set(key, sql);
  return sql;
}

const commitSqlOf = new Map<CollabFieldKey, string>();

/** What the commit statement tells: the new rows' ids in batch order, and the log's tail. */
export interface BatchCommitted {
  ids: bigint[];
  /** `folded_through` and the rows from the warm copy's `upTo` on (its own row's bytes empty). */
  log: Pick<StoredDoc, "foldedThrough" | "updates">;
}

/**
 * The commit statement of `rows`, for `atCommit`; `upTo`: the log row the warm copy has applied
 * last (the tail comes from there; null: no tail, the copy read it under the locks); `origin`:
 * the writing runtime's (origin.ts). `onCommitted` gets what it returned once committed.
 */
export function batchCommit(
  {
    key,
    rowId,
    rows,
    upTo,
    origin,
  }: {
    key: CollabFieldKey;
    rowId: string;
    rows: readonly BatchRow[];
    upTo: bigint | null;
    origin: string;
  },
  onCommitted: (committed: BatchCommitted) => void,
): [
  sql: string,
  values: unknown[],
  name: string,
  onRows: (rows: Record<string, unknown>[]) => void,
] {
  return [
    batchCommitSql(key),
    [
      JSON.stringify(
        rows.map((row, ord) => ({
          ord,
          client_id: row.clientId,
          mutation_id: row.mutationId,
          user_id: row.userId,
          update: row.update,
          digest: row.digest,
        })),
      ),
      key,
      rowId,
      upTo?.toString() ?? null,
      origin,
    ],
    `collab_batch_commit_${key}`,
    (returned) => {
      const typed = returned as { kind: number; bytes: unknown; ord: string }[];
      const { foldedThrough, updates } = storedDocOf(
        // storedDocOf reads a state row first; this one carries no state.
        typed.filter((row) => row.kind !== 3),
      );
      onCommitted({
        ids: typed
          .filter((row) => row.kind === 3)
          .map((row) => BigInt(row.ord)),
        log: { foldedThrough, updates },
      });
    },
  ];
}

/** A Postgres array literal of uuids or keys (no quotes, commas or braces in them). */
function pgArray(values: readonly string[]): string {
  for (const value of values)
    if (!/^[\w.:-]+$/.test(value))
      throw new Error(`not an array element: ${value}`);
  return `{${values.join(",")}}`;
}
