import type { Db } from "./client";

/** A Postgres transaction id as Electric reports it in `txids`: the 32-bit xid. */
export type Txid = number;

/** The client Prisma hands to an interactive transaction callback. */
export type TxClient = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/**
 * Runs `fn` in one interactive transaction and returns its result with the transaction's txid.
 *
 * The txid is read inside the same transaction as the writes: this is the whole trick. A txid
 * read on another connection or transaction never shows up in the shape stream, and a client
 * waiting for it waits forever. `::xid` truncates the 64-bit `xid8` to the 32-bit xid that
 * Electric puts in each change's `txids` header.
 *
 * @see https://electric-sql.com/docs/guides/writes
 */
export async function withTxid<T>(
  db: Db,
  fn: (tx: TxClient) => Promise<T>,
): Promise<{ data: T; txid: Txid }> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<
      { txid: string }[]
    >`SELECT pg_current_xact_id()::xid::text AS txid`;
    const data = await fn(tx);
    return { data, txid: Number(rows[0]?.txid) };
  });
}
