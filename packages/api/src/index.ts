import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";

import type { AppRouter } from "./root";
import { appRouter } from "./root";
import { createCallerFactory } from "./trpc";

export { appRouter };
export type { AppRouter };
export { createTRPCContext } from "./trpc";
export type {
  Context,
  CreateContextOptions,
  SessionResolver,
  SessionUser,
} from "./trpc";
export {
  createBearerSessionResolver,
  DEFAULT_SESSION_CACHE_MS,
  findSessionUser,
} from "./auth/session";
export type {
  BearerSessionResolver,
  BearerSessionResolverOptions,
} from "./auth/session";
export { mutationProcedure } from "./mutation/procedure";
export type {
  MutationHandler,
  MutationHandlerOptions,
  MutationResult,
} from "./mutation/procedure";
export type { AppErrorData, ErrorReason, FieldErrors } from "./errors";
export { MAX_REQUEST_BYTES } from "./limits";
export {
  DEFAULT_MUTATION_LOG_RETENTION_MS,
  DEFAULT_PRUNE_INTERVAL_MS,
  startMutationLogPruning,
} from "./jobs/prune-mutation-log";
export type {
  MutationLogPruning,
  MutationLogPruningOptions,
} from "./jobs/prune-mutation-log";
/** For hosts that schedule pruning themselves (cron): `pruneMutationLog(db, { olderThan })`. */
export { pruneMutationLog } from "@repo/db";
/** Server-only: the app builds its database client through the api package, never directly. */
export { createDb } from "@repo/db";
export type { Db, Txid } from "@repo/db";

/** Calls procedures in-process (server components, actions, tests). */
export const createCaller = createCallerFactory(appRouter);

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
