import { escapeLiteral } from "pg";

import type { Db } from "./client";
import type { Prisma } from "./generated/prisma/client";
import { poolOf } from "./client";
import { isRetryableTransactionError } from "./errors";
import {
  slotOnConnection,
  TransactionSlot,
  withTransactionSlot,
} from "./transaction-connection";

/** A Postgres transaction id as Electric reports it in `txids`: the 32-bit xid. */
export type Txid = number;

/** The client Prisma hands to an interactive transaction callback. */
export type TxClient = Parameters<Parameters<Db["$transaction"]>[0]>[0];

export interface WithTxidOptions {
  /**
   * Attempts in all when Postgres aborts the transaction with a serialization failure (40001)
   * or a deadlock (40P01). Default 4. Such an abort undoes everything, so running again is safe.
   */
  maxAttempts?: number;
  /** Default: the database's (READ COMMITTED). */
  isolationLevel?: Prisma.TransactionIsolationLevel;
  /**
   * Takes a transaction-scoped advisory lock on this key with the transaction's first statement
   * (before anything of `fn` reaches the database), so the statements of transactions with
   * the same key run one after another (the mutation log serialises each client this way).
   * Several keys are taken in the order given: every transaction taking more than one must
   * agree on that order, or two can wait on each other until Postgres' deadlock check (1 s).
   */
  lockKey?: string | readonly string[];
  /** Prisma's interactive-transaction limits, in ms (defaults 5000 and 2000). */
  timeout?: number;
  maxWait?: number;
}

/**
 * Runs one statement in the transaction: on its pg connection directly when `createDb` made
 * the client (fast path), else through Prisma's transaction client.
 */
export type TxQuery = <R extends Record<string, unknown>>(
  sql: string,
  values: unknown[],
  /** Prepared-statement name for the direct path: the same name must mean the same SQL. */
  name?: string,
) => Promise<R[]>;

/**
 * Registers one statement to run in the `COMMIT` round trip, after everything else of the
 * transaction (simple protocol: `$n` values travel as literals, so text, numbers, booleans or
 * null; with a `name` the statement is prepared once per connection by SQL `PREPARE` and sent
 * as `EXECUTE`). If it fails, nothing commits and the transaction's promise rejects with its
 * error. `onRows` gets its rows once the transaction has committed. Only on the direct path
 * (`createDb` clients).
 */
export type AtCommit = (
  sql: string,
  values?: readonly unknown[],
  name?: string,
  onRows?: (rows: Record<string, unknown>[]) => void,
) => void;

/**
 * Namespace of our advisory locks: the two-integer form `(namespace, hashtext(key))` keeps them
 * apart from single-bigint locks such as the migration runner's.
 */
export const LOCK_NAMESPACE = 0x6b697401;

/**
 * Runs `fn` in one interactive transaction and returns its result with the transaction's txid.
 *
 * The txid is read inside the same transaction as the writes: this is the whole trick. A txid
 * read on another connection or transaction never shows up in the shape stream, and a client
 * waiting for it waits forever. `::xid` truncates the 64-bit `xid8` to the 32-bit xid that
 * Electric puts in each change's `txids` header.
 *
 * Serialization failures and deadlocks are retried (new transaction, new txid) with a short
 * randomised backoff, so `fn` must have no effects outside the transaction.
 *
 * @see https://electric-sql.com/docs/guides/writes
 */
export async function withTxid<T>(
  db: Db,
  fn: (tx: TxClient) => Promise<T>,
  options: WithTxidOptions = {},
): Promise<{ data: T; txid: Txid }> {
  return runWithTxid(db, (tx) => fn(tx), options);
}

/**
 * `withTxid` whose callback also gets `query`, for statements the caller writes in SQL (the
 * mutation log): they skip Prisma's per-statement overhead but stay in the transaction.
 */
export async function runWithTxid<T>(
  db: Db,
  /** `atCommit` is undefined when the client has no direct path (not made by `createDb`). */
  fn: (tx: TxClient, query: TxQuery, atCommit?: AtCommit) => Promise<T>,
  options: WithTxidOptions = {},
): Promise<{ data: T; txid: Txid }> {
  const maxAttempts = options.maxAttempts ?? 4;
  const txidSql = txidStatement(options.lockKey);
  for (let attempt = 1; ; attempt++) {
    // Sent with BEGIN and the transaction's first statement in one round trip, unless an
    // isolation level must come first (Prisma sets it in a statement of its own after BEGIN).
    let txidFromBegin: string | undefined;
    const slot = new TransactionSlot(
      options.isolationLevel === undefined
        ? {
            sql: txidSql,
            onRows: (rows) => (txidFromBegin = String(rows[0]?.txid)),
          }
        : undefined,
    );
    try {
      const result = await withTransactionSlot(slot, () =>
        db.$transaction(
          async (tx) => {
            const query: TxQuery = slot.isOpen
              ? (sql, values, name) => slot.query(sql, values, name)
              : (sql, values) => tx.$queryRawUnsafe(sql, ...values);
            // On the direct path the txid comes back with BEGIN, sent with the first
            // statement; otherwise it is read here, first.
            const txidRead =
              slot.isOpen && slot.beginWith
                ? undefined
                : (await query<{ txid: string }>(txidSql, []))[0]?.txid;
            const atCommit: AtCommit | undefined = slot.isOpen
              ? (sql, values, name, onRows) =>
                  (slot.commitWith = { sql, values, name, onRows })
              : undefined;
            const data = await fn(tx, query, atCommit);
            return { data, txidRead };
          },
          {
            isolationLevel: options.isolationLevel,
            timeout: options.timeout,
            maxWait: options.maxWait,
          },
        ),
      );
      const txid = Number(txidFromBegin ?? result.txidRead);
      // Cannot happen (pg_current_xact_id() always answers); a bug must not pass unnoticed.
      if (!Number.isInteger(txid) || txid <= 0)
        throw new Error("withTxid: could not read the transaction id");
      return { data: result.data, txid };
    } catch (caught) {
      // A failed commit statement: its own error, not Prisma's wrapping of it.
      const error = slot.commitFailure ?? caught;
      if (attempt >= maxAttempts || !isRetryableTransactionError(error))
        throw error;
      await sleep(backoffMs(attempt));
    }
  }
}

/**
 * `runWithTxid` for a callback that needs nothing of Prisma (its statements all go through
 * `query` and `atCommit`): the transaction takes a connection straight from the pool, without
 * Prisma's interactive-transaction machinery (≈ 0.4 ms of CPU and 0.6 ms of latency per
 * transaction on the dev VM). Same retries and locks; there is no Prisma `timeout`. On a client
 * not made by `createDb` it is `runWithTxid`.
 */
export async function runDirectWithTxid<T>(
  db: Db,
  fn: (query: TxQuery, atCommit?: AtCommit) => Promise<T>,
  options: Pick<WithTxidOptions, "lockKey" | "maxAttempts"> = {},
): Promise<{ data: T; txid: Txid }> {
  const pool = poolOf(db);
  if (!pool)
    return runWithTxid(
      db,
      (_tx, query, atCommit) => fn(query, atCommit),
      options,
    );
  const maxAttempts = options.maxAttempts ?? 4;
  const txidSql = txidStatement(options.lockKey);
  for (let attempt = 1; ; attempt++) {
    let txid: string | undefined;
    const connection = await pool.connect();
    const slot = slotOnConnection(connection, {
      sql: txidSql,
      onRows: (rows) => (txid = String(rows[0]?.txid)),
    });
    // A checked-out connection's failure (the server went away) comes as its statement's
    // error too; unheard, the event would end the process.
    let broken: Error | undefined;
    const onError = (error: Error) => (broken = error);
    connection.on("error", onError);
    try {
      const data = await fn(
        (sql, values, name) => slot.query(sql, values, name),
        (sql, values, name, onRows) =>
          (slot.commitWith = { sql, values, name, onRows }),
      );
      await connection.query("COMMIT");
      const id = Number(txid);
      if (!Number.isInteger(id) || id <= 0)
        throw new Error("runDirectWithTxid: could not read the transaction id");
      return { data, txid: id };
    } catch (caught) {
      // A failed commit statement: its own error (the COMMIT round trip rolled back).
      const error = slot.commitFailure ?? caught;
      if (!slot.closed)
        await connection.query("ROLLBACK").catch((failed: unknown) => {
          broken ??=
            failed instanceof Error ? failed : new Error(String(failed));
        });
      if (attempt >= maxAttempts || !isRetryableTransactionError(error))
        throw error;
      await sleep(backoffMs(attempt));
    } finally {
      connection.removeListener("error", onError);
      // A broken connection is destroyed, not handed to the next transaction.
      connection.release(broken);
    }
  }
}

/**
 * `BEGIN`'s companion statement: the txid, then the advisory locks. One round trip for both:
 * the locks do not change the txid, and waiting for them before anything is read is what
 * serialises same-key transactions. Postgres evaluates the select list left to right: the
 * locks are taken in the order given.
 */
function txidStatement(lockKey: WithTxidOptions["lockKey"]): string {
  return [
    `SELECT pg_current_xact_id()::xid::text AS txid`,
    ...[lockKey ?? []]
      .flat()
      .map(
        (key, index) =>
          `pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext(${escapeLiteral(key)}))::text AS locked_${index}`,
      ),
  ].join(", ");
}

/** 2, 4, 8 … ms plus jitter, so two transactions that collided do not collide again. */
function backoffMs(attempt: number): number {
  const base = 2 ** attempt;
  return base + Math.random() * base;
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));
