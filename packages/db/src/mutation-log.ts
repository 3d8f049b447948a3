/**
 * Exactly-once client mutations on top of `withTxid`: the mutation log (`mutation_log` table).
 *
 * A call is identified by (client id, mutation id). In the mutation's own transaction:
 * 1. `withTxid` reads the txid and takes an advisory lock on the client id with the
 *    transaction's first statement (no round trip of its own), so the statements of one
 *    client's calls run one call at a time (a concurrent retry waits for the first call);
 * 2. the mutation runs;
 * 3. one statement inserts the log row (txid, encoded data) only if the client has no row with
 *    this or a later id and no row of another user; it sees every committed call of the client,
 *    because the lock was taken in an earlier statement. It refuses by failing; on `createDb`
 *    clients it travels with `COMMIT` (one round trip: `INSERT …; COMMIT`), elsewhere it runs
 *    just before `COMMIT`.
 * If it refuses, the transaction rolls back and the log answers: a row for this call →
 * its recorded data and txid (or its recorded rejection), unless the row is of another
 * mutation or other arguments (`MutationIdReusedError`); else the ordering or ownership error.
 * Failures consult the log the same way first (a retried create fails on its duplicate id),
 * then, if the caller classifies the error as a definitive rejection, record it after the
 * rollback, so a retry gets the same answer; transient failures are not recorded.
 *
 * The happy path costs no round trip beyond the mutation's own; a retry costs a rolled-back
 * run of the mutation, which is rare.
 */
import type { Db } from "./client";
import type {
  AtCommit,
  TxClient,
  Txid,
  TxQuery,
  WithTxidOptions,
} from "./with-txid";
import { argsDigest } from "./args-digest";
import {
  ClientIdOwnerError,
  MutationIdReusedError,
  MutationOrderError,
  RecordedRejectionError,
  sqlStateOf,
} from "./errors";
import { runWithTxid } from "./with-txid";

/**
 * Inserts the call's row, refusing by failing if the client has a row with this or a later id
 * or one of another user ($1 client, $2 mutation id, $3 user, $4 name, $5 result, $6 digest of
 * the arguments): the mutation
 * id becomes NULL, which the column's NOT NULL constraint rejects (SQLSTATE 23502 on
 * `mutation_log.mutation_id`). Failing, rather than inserting nothing, is what lets it travel
 * with `COMMIT` (`INSERT …; COMMIT`): Postgres skips the `COMMIT` after a failed statement.
 * Prepared once per connection.
 */
const LOG_INSERT_SQL = `
  INSERT INTO mutation_log (client_id, mutation_id, user_id, name, txid, outcome, result,
                            args_digest)
  SELECT $1::uuid,
         CASE WHEN NOT EXISTS (
           SELECT 1 FROM (SELECT mutation_id, user_id FROM mutation_log
                           WHERE client_id = $1::uuid
                           ORDER BY mutation_id DESC LIMIT 1) latest
            WHERE latest.mutation_id >= $2::int OR latest.user_id <> $3::uuid)
         THEN $2::int END,
         $3::uuid, $4::text, pg_current_xact_id()::xid::text::bigint, 'ok', $5::jsonb, $6::text`;

/** Whether `error` is the refusal of `LOG_INSERT_SQL` (pg's error, unwrapped). */
function isLogRefusal(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, table, column } = error as Record<string, unknown>;
  return (
    code === "23502" && table === "mutation_log" && column === "mutation_id"
  );
}

/** JSON as Postgres `jsonb` stores it. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface MutationCall {
  clientId: string;
  mutationId: number;
  /** The signed-in user: a client id belongs to the first user that used it. */
  userId: string;
  /** e.g. `issues.create`. */
  name: string;
  /**
   * The call's arguments (after validation): a retry under the same id must carry the same
   * (compared by `argsDigest`, so key order and `undefined` properties do not matter).
   */
  args: unknown;
}

export interface LoggedMutationOptions<T> extends Omit<
  WithTxidOptions,
  "lockKey"
> {
  /** Data → JSON for the log (the caller's encoding, e.g. superjson, keeps dates). */
  encode: (data: T) => JsonValue;
  decode: (json: JsonValue) => T;
  /**
   * Whether an error is a definitive rejection worth recording (`{ outcome, message }`) or
   * transient (null: a retry runs the mutation again).
   */
  classifyRejection: (error: unknown) => Rejection | null;
}

/** A definitive rejection as the log records it. */
export interface Rejection {
  /** Error code, e.g. `FORBIDDEN`. */
  outcome: string;
  message: string;
  reason?: string | null;
}

export interface LoggedMutationResult<T> {
  data: T;
  txid: Txid;
  /** true when this call was answered from the log (a retry): nothing was written. */
  replayed: boolean;
}

interface LogRow {
  mutation_id: number;
  user_id: string;
  name: string;
  args_digest: string | null;
  txid: string | null;
  outcome: string;
  result: JsonValue;
}

/** The log already decided this call (or refuses it): roll back and answer from the log. */
class LogAnswers extends Error {
  constructor() {
    super("answered from the mutation log");
    this.name = "LogAnswers";
  }
}

export async function runLoggedMutation<T>(
  db: Db,
  call: MutationCall,
  /** `query` runs SQL in the same transaction without Prisma's per-statement work. */
  fn: (tx: TxClient, query: TxQuery) => Promise<T>,
  options: LoggedMutationOptions<T>,
): Promise<LoggedMutationResult<T>> {
  const { encode, decode, classifyRejection, ...txOptions } = options;
  const digest = argsDigest(call.args);
  try {
    const { data, txid } = await runWithTxid(
      db,
      async (tx, query, atCommit?: AtCommit) => {
        const data = await fn(tx, query);
        const values = [
          call.clientId,
          call.mutationId,
          call.userId,
          call.name,
          JSON.stringify(encode(data)),
          digest,
        ];
        if (atCommit) {
          atCommit(LOG_INSERT_SQL, values, "mutation_log_insert");
          return data;
        }
        // Without the direct path (a client not made by `createDb`): before COMMIT, through
        // Prisma, which wraps the refusal (hence the SQLSTATE, this being the only statement).
        await query(LOG_INSERT_SQL, values, "mutation_log_insert").catch(
          (error: unknown) => {
            throw sqlStateOf(error) === "23502" ? new LogAnswers() : error;
          },
        );
        return data;
      },
      { ...txOptions, lockKey: call.clientId },
    );
    return { data, txid, replayed: false };
  } catch (error) {
    // If even the log cannot be read (database down), the original failure is the answer.
    const rows = await readLog(db, call).catch(() => null);
    if (!rows) throw error;
    const recorded = rows.find((row) => row.mutation_id === call.mutationId);
    if (recorded) return answerFromLog(recorded, call, digest, decode);
    const latest = rows[0];
    if (latest && latest.user_id !== call.userId)
      throw new ClientIdOwnerError(call.clientId);
    if (latest && latest.mutation_id > call.mutationId)
      throw new MutationOrderError(
        call.clientId,
        call.mutationId,
        latest.mutation_id,
      );
    if (error instanceof LogAnswers || isLogRefusal(error))
      throw new Error("mutation log: refused a call it has no answer for", {
        cause: error,
      });
    const rejection = classifyRejection(error);
    if (rejection) await recordRejection(db, call, digest, rejection);
    throw error;
  }
}

/** This call's row (if any) and the client's latest row, latest first. */
async function readLog(db: Db, call: MutationCall): Promise<LogRow[]> {
  return db.$queryRaw<LogRow[]>`
    SELECT mutation_id, user_id::text AS user_id, name, args_digest, txid::text AS txid,
           outcome, result
      FROM mutation_log
     WHERE client_id = ${call.clientId}::uuid
       AND (mutation_id = ${call.mutationId}
            OR mutation_id = (SELECT max(mutation_id) FROM mutation_log
                               WHERE client_id = ${call.clientId}::uuid))
     ORDER BY mutation_id DESC`;
}

function answerFromLog<T>(
  row: LogRow,
  call: MutationCall,
  digest: string,
  decode: (json: JsonValue) => T,
): LoggedMutationResult<T> {
  // Answer only the user who made the call: a client id is not a credential to read results.
  if (row.user_id !== call.userId) throw new ClientIdOwnerError(call.clientId);
  // Another mutation, or the same with other arguments: answering with the recorded result
  // would tell the caller its call was applied when it was not.
  if (
    row.name !== call.name ||
    (row.args_digest !== null && row.args_digest !== digest)
  )
    throw new MutationIdReusedError(call.mutationId, row.name, call.name);
  if (row.outcome !== "ok" || row.txid === null) {
    const recorded =
      typeof row.result === "object" &&
      row.result !== null &&
      !Array.isArray(row.result)
        ? row.result
        : {};
    throw new RecordedRejectionError(
      row.outcome,
      typeof recorded.message === "string" ? recorded.message : row.outcome,
      typeof recorded.reason === "string" ? recorded.reason : null,
    );
  }
  return { data: decode(row.result), txid: Number(row.txid), replayed: true };
}

/**
 * Records a definitive rejection (its transaction has rolled back). `ON CONFLICT DO NOTHING`:
 * a concurrent retry of the same call may have recorded it already.
 */
async function recordRejection(
  db: Db,
  call: MutationCall,
  digest: string,
  rejection: Rejection,
): Promise<void> {
  const result = {
    message: rejection.message,
    reason: rejection.reason ?? null,
  };
  await db.$executeRaw`
    INSERT INTO mutation_log (client_id, mutation_id, user_id, name, txid, outcome, result,
                              args_digest)
    VALUES (${call.clientId}::uuid, ${call.mutationId}, ${call.userId}::uuid, ${call.name},
            NULL, ${rejection.outcome}, ${JSON.stringify(result)}::jsonb, ${digest})
    ON CONFLICT (client_id, mutation_id) DO NOTHING`;
}

/**
 * Deletes log rows older than `olderThan`, except each client's latest row, which ordering
 * needs (an id below it stays refused). Afterwards a retry of a pruned call is no longer
 * recognised, so keep rows longer than a client may stay offline with unacknowledged calls.
 * Returns the number of rows deleted. Run it from a periodic job.
 */
export async function pruneMutationLog(
  db: Db,
  { olderThan }: { olderThan: Date },
): Promise<number> {
  return db.$executeRaw`
    DELETE FROM mutation_log m
     WHERE m.created_at < ${olderThan}
       AND m.mutation_id < (SELECT max(l.mutation_id) FROM mutation_log l
                             WHERE l.client_id = m.client_id)`;
}
