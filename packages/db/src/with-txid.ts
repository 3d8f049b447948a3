import type { Db } from "./client";
import type { Prisma } from "./generated/prisma/client";
import { isRetryableTransactionError } from "./errors";

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
   * Takes a transaction-scoped advisory lock on this key before `fn` runs, so transactions with
   * the same key run one after another (the mutation log serialises each client this way).
   */
  lockKey?: string;
  /** Prisma's interactive-transaction limits, in ms (defaults 5000 and 2000). */
  timeout?: number;
  maxWait?: number;
}

/**
 * Namespace of our advisory locks: the two-integer form `(namespace, hashtext(key))` keeps them
 * apart from single-bigint locks such as the migration runner's.
 */
const LOCK_NAMESPACE = 0x6b697401;

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
  const maxAttempts = options.maxAttempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(
        async (tx) => {
          // One round trip for both: the lock does not change the txid, and waiting for the
          // lock before `fn` reads anything is what serialises same-key transactions.
          const rows =
            options.lockKey === undefined
              ? await tx.$queryRaw<
                  { txid: string }[]
                >`SELECT pg_current_xact_id()::xid::text AS txid`
              : await tx.$queryRaw<{ txid: string }[]>`
                  SELECT pg_current_xact_id()::xid::text AS txid,
                         pg_advisory_xact_lock(${LOCK_NAMESPACE}::int, hashtext(${options.lockKey}))::text AS locked`;
          const txid = Number(rows[0]?.txid);
          const data = await fn(tx);
          return { data, txid };
        },
        {
          isolationLevel: options.isolationLevel,
          timeout: options.timeout,
          maxWait: options.maxWait,
        },
      );
    } catch (error) {
      if (attempt >= maxAttempts || !isRetryableTransactionError(error))
        throw error;
      await sleep(backoffMs(attempt));
    }
  }
}

/** 2, 4, 8 … ms plus jitter, so two transactions that collided do not collide again. */
function backoffMs(attempt: number): number {
  const base = 2 ** attempt;
  return base + Math.random() * base;
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));
