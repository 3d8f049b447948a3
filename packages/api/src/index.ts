import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";

import type { AppRouter } from "./root";

export { appRouter, createCaller } from "./root";
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
export { hashPassword, MIN_PASSWORD_LENGTH } from "./auth/better-auth";
export type { AuthHandler, AuthOptions } from "./auth/better-auth";
export type { ShapeArgs, ShapeName } from "./shapes/catalog";
export type { ElectricOptions, ShapeHandler } from "./shapes/proxy";
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
} from "./jobs/prune-mutation-log";
export type {
  MutationLogPruning,
  MutationLogPruningOptions,
} from "./jobs/prune-mutation-log";
export { DEFAULT_PRESENCE_CLEANUP_INTERVAL_MS } from "./presence/cleanup";
export type {
  PresenceCleanup,
  PresenceCleanupOptions,
} from "./presence/cleanup";
export { DEFAULT_COMPACTION } from "./collab";
/** Each coalesced write's and compaction's stages, on diagnostics channels (benches, tracing). */
export { batchTimings, type BatchTiming } from "./collab/group-commit";
export { compactionTimings, type CompactionTiming } from "./collab/compaction";
export { FOLLOW_PATH } from "./collab/follow-node";
export { DOC_SOCKET_PATH } from "@repo/schema";
export { toHeaders } from "./http/node-headers";
export type {
  CollabServer,
  CompactionJob,
  CompactionOptions,
  CompactionResult,
} from "./collab";
/** Apps start here: one runtime per server process (the database stays inside it). */
export { createApiRuntime } from "./runtime";
export type {
  ApiCaller,
  ApiErrorHandler,
  ApiRuntime,
  ApiRuntimeOptions,
  BackgroundJobs,
} from "./runtime";

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
