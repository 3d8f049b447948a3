export { createDb } from "./client";
export type { Db, CreateDbOptions } from "./client";
export { withTxid } from "./with-txid";
export type { Txid, TxClient } from "./with-txid";
export * from "./generated/prisma/enums";
export type * from "./generated/prisma/models";
export { Prisma } from "./generated/prisma/client";
