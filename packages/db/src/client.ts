import { PrismaPg } from "@prisma/adapter-pg";

import { PrismaClient } from "./generated/prisma/client";
import { TransactionAwareClient } from "./transaction-connection";

export type Db = PrismaClient;

export interface CreateDbOptions {
  /** Pool size of the pg adapter. Default: pg's own (10). */
  max?: number;
}

/**
 * A Prisma client over `pg` (Prisma 7 always goes through a driver adapter). Its connections
 * let `withTxid` send its own statements straight to a transaction's connection (see
 * transaction-connection.ts); everything else is plain Prisma.
 */
export function createDb(
  databaseUrl: string,
  options: CreateDbOptions = {},
): Db {
  return new PrismaClient({
    adapter: new PrismaPg({
      connectionString: databaseUrl,
      max: options.max,
      Client: TransactionAwareClient,
    }),
  });
}
