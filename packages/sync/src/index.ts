/**
 * @repo/sync: the client runtime. Live shapes (the official `ShapeStream`) + a queue of pending
 * writes (the shared reducers of @repo/mutations) → one optimistic view, reconciled by txid.
 * Isomorphic: browsers, Node CLIs and workers. React hooks: `@repo/sync/react`; the file outbox
 * for Node: `@repo/sync/node`.
 */
export { createSyncClient, SyncClient } from "./client";
export type {
  FailedWrite,
  MutateOptions,
  PendingWriteInfo,
  SyncClientOptions,
} from "./client-options";
export type {
  ShapeDefinition,
  ShapeSnapshot,
  ShapeSubscription,
} from "./shape-registry";
export {
  ClientClosedError,
  InvalidMutationInputError,
  MutationRejectedError,
  OutboxError,
  SyncError,
  TxidTimeoutError,
} from "./errors";
export { DeadlineError, withDeadline } from "./deadline";
export { memoryOutbox } from "./outbox/storage";
export { loadShape } from "./ssr";
export type { InitialShape } from "./ssr";
export { browserTabs, createTabGroup, singleTab } from "./tabs";
export type { TabCoordinator, TabMessage } from "./tabs";
export type {
  NewOutboxEntry,
  OutboxSnapshot,
  OutboxStorage,
} from "./outbox/storage";
export { classifyFailure, trpcTransport } from "./transport";
export type {
  MutationRequest,
  MutationTransport,
  SendFailure,
} from "./transport";
export type { MutationResult, OutboxEntry, SyncStatus, Txid } from "./types";
