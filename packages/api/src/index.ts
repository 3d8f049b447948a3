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
/** Server-only: the app builds its database client through the api package, never directly. */
export { createDb } from "@repo/db";
export type { Db, Txid } from "@repo/db";

/** Calls procedures in-process (server components, actions, tests). */
export const createCaller = createCallerFactory(appRouter);

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
