/**
 * The two statements of a coalesced `docs.update` transaction (group-commit.ts): one read after
 * `BEGIN` and the document's lock, one write with `COMMIT`. Each is prepared once per
 * connection and travels as simple-protocol literals, so the whole transaction is two round
 * trips however many calls it carries.
 */
import type { TxQuery } from "@repo/db";
import type { CollabFieldKey, ProjectRole } from "@repo/schema";

import type { StoredDoc } from "./store";
import { docLockKey, serverField } from "./fields";
import { ACCESS_LOCKS, storedDocOf } from "./store";

export interface BatchContext extends StoredDoc {
  /** Role of each user of the batch on the document's row (absent: may not see it). */
  roles: Map<string, ProjectRole>;
  /** `doc_updates` ids reserved for the batch's rows, ascending (under the document's lock). */
  ids: bigint[];
  /** Database and server port: the key of the process's warm documents. */
  database: string;
}

/**
 * Under the batch's locks (`batchLockKeys`, taken with `BEGIN`): the state (if `withState`),
 * log rows from `fromId`, the users' roles (their rows locked to commit: `ACCESS_LOCKS`), and
 * `count` ids for the new rows. The log's ordering check runs in the commit statement, which
 * sees every call the clients' locks waited for.
 */
export async function readBatchContext(
  query: TxQuery,
  key: CollabFieldKey,
  rowId: string,
  batch: {
    withState: boolean;
    fromId: bigint;
    userIds: string[];
    count: number;
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
     SELECT 3, NULL, nextval('doc_updates_id_seq')::text, g,
            current_database() || ':' || coalesce(inet_server_port()::text, '')
       FROM generate_series(1, $6::int) g
     ORDER BY kind, seq`,
    [
      key,
      rowId,
      batch.withState,
      batch.fromId.toString(),
      pgArray(batch.userIds),
      batch.count,
    ],
    `collab_batch_read_${key}`,
  );
  const reserved = rows.filter((row) => row.kind === 3);
  const database = reserved[0]?.extra;
  if (reserved.length !== batch.count || !database)
    throw new Error("collab batch: ids not reserved");
  return {
    ...storedDocOf(rows),
    roles: new Map(
      rows
        .filter((row) => row.kind === 2 && row.extra !== null)
        .map((row) => [row.extra ?? "", row.ord as ProjectRole]),
    ),
    ids: reserved
      .map((row) => BigInt(row.ord))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
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
  id: bigint;
  clientId: string;
  mutationId: number;
  userId: string;
  /** The update, base64 (as the call carried it). */
  update: string;
  /** The call's data as the mutation log keeps it. */
  result: unknown;
  digest: string;
}

/**
 * The statement that travels with `COMMIT`: the batch's log rows and its calls' mutation-log
 * rows. Like the single path's log insert, it refuses by failing (a NULL mutation id, SQLSTATE
 * 23502) when a client has a row with this or a later id, or one of another user; Postgres
 * then skips the `COMMIT` and nothing of the batch is written.
 */
export const BATCH_COMMIT_SQL = `
  WITH calls AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(
      id bigint, client_id uuid, mutation_id int, user_id uuid, "update" text, result jsonb,
      digest text)),
  appended AS (
    INSERT INTO doc_updates (id, field, row_id, update, client_id)
    SELECT id, $2::text, $3::uuid, decode("update", 'base64'), client_id FROM calls)
  INSERT INTO mutation_log (client_id, mutation_id, user_id, name, txid, outcome, result,
                            args_digest)
  SELECT c.client_id,
         CASE WHEN NOT EXISTS (
           SELECT 1 FROM (SELECT mutation_id, user_id FROM mutation_log
                           WHERE client_id = c.client_id
                           ORDER BY mutation_id DESC LIMIT 1) latest
            WHERE latest.mutation_id >= c.mutation_id OR latest.user_id <> c.user_id)
         THEN c.mutation_id END,
         c.user_id, 'docs.update', pg_current_xact_id()::xid::text::bigint, 'ok', c.result,
         c.digest
    FROM calls c`;

export const batchCommitValues = (
  key: CollabFieldKey,
  rowId: string,
  rows: readonly BatchRow[],
): [string, string, string] => [
  JSON.stringify(
    rows.map((row) => ({
      id: row.id.toString(),
      client_id: row.clientId,
      mutation_id: row.mutationId,
      user_id: row.userId,
      update: row.update,
      result: row.result,
      digest: row.digest,
    })),
  ),
  key,
  rowId,
];

/** A Postgres array literal of uuids or keys (no quotes, commas or braces in them). */
function pgArray(values: readonly string[]): string {
  for (const value of values)
    if (!/^[\w.:-]+$/.test(value))
      throw new Error(`not an array element: ${value}`);
  return `{${values.join(",")}}`;
}
