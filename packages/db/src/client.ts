import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

import { PrismaClient } from "./generated/prisma/client";
import { createStatementNamer } from "./statement-names";
import { TransactionAwareClient } from "./transaction-connection";

export type Db = PrismaClient;

export interface CreateDbOptions {
  /** Pool size of the pg adapter. Default: pg's own (10). */
  max?: number;
  /**
   * Distinct parameterised statements to prepare per connection (see statement-names.ts);
   * 0 prepares none. Default 1000.
   */
  preparedStatements?: number;
}

/**
 * A Prisma client over `pg` (Prisma 7 always goes through a driver adapter). Its connections
 * let `withTxid` send its own statements straight to a transaction's connection (see
 * transaction-connection.ts) and prepare Prisma's statements; everything else is plain Prisma.
 */
export function createDb(
  databaseUrl: string,
  options: CreateDbOptions = {},
): Db {
  const prepared = options.preparedStatements ?? 1000;
  // Ours, not the adapter's own: transactions that need nothing of Prisma take a connection
  // straight from it (`runDirectWithTxid`).
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max,
    Client: TransactionAwareClient,
  });
  // An idle connection whose server went away (a restart): the pool drops it. Prisma listens
  // too, but only once it has connected.
  pool.on("error", () => undefined);
  const db = new PrismaClient({
    // Without it (NODE_ENV not "production") Prisma captures a stack trace on every call, to
    // point error messages at the calling line: CPU on the hot path for a nicer message.
    errorFormat: "minimal",
    adapter: new PrismaPg(pool, {
      // An empty name means an unnamed statement to pg (it tests the name for truthiness).
      statementNameGenerator:
        prepared > 0 ? createStatementNamer(prepared) : undefined,
      // `$disconnect()` ends it, as it would the adapter's own.
      disposeExternalPool: true,
    }),
  });
  pools.set(db, pool);
  return db;
}

const pools = new WeakMap<Db, pg.Pool>();

/** The pg pool under a `createDb` client (none under another `PrismaClient`). */
export const poolOf = (db: Db): pg.Pool | undefined => pools.get(db);
