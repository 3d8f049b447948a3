import { PrismaPg } from "@prisma/adapter-pg";

import { PrismaClient } from "./generated/prisma/client";

export type Db = PrismaClient;

export interface CreateDbOptions {
  /** Pool size of the pg adapter. Default: pg's own (10). */
  max?: number;
}

/** A Prisma client over `pg` (Prisma 7 always goes through a driver adapter). */
export function createDb(
  databaseUrl: string,
  options: CreateDbOptions = {},
): Db {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl, max: options.max }),
  });
}
