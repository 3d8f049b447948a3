export { createDb } from "./client";
export type { Db, CreateDbOptions } from "./client";
export {
  LOCK_NAMESPACE,
  runDirectWithTxid,
  runWithTxid,
  withTxid,
} from "./with-txid";
export { argsDigest } from "./args-digest";
export type {
  AtCommit,
  Txid,
  TxClient,
  TxQuery,
  WithTxidOptions,
} from "./with-txid";
export { pruneMutationLog, runLoggedMutation } from "./mutation-log";
export type {
  JsonValue,
  LoggedMutationOptions,
  LoggedMutationResult,
  MutationCall,
  Rejection,
} from "./mutation-log";
export {
  ClientIdOwnerError,
  constraintOf,
  isRetryableTransactionError,
  MutationIdReusedError,
  MutationOrderError,
  RecordedRejectionError,
  sqlStateOf,
  WritePathError,
} from "./errors";
export * from "./generated/prisma/enums";
export type * from "./generated/prisma/models";
export { Prisma } from "./generated/prisma/client";
