/** The client's options and what it reports: the types an app sees, apart from the client. */
import type { MutationActor, MutationDefinition } from "@repo/mutations";
import type { TableName } from "@repo/schema";

import type {
  MutationRejectedError,
  OutboxError,
  TxidTimeoutError,
} from "./errors";
import type { OutboxStorage } from "./outbox/storage";
import type { PendingWrite } from "./pending-write";
import type { CreateStream } from "./shape-registry";
import type { TabCoordinator } from "./tabs";
import type { MutationTransport } from "./transport";
import type { Txid } from "./types";

export interface SyncClientOptions {
  /** Every mutation the app may queue, by name (`mutationsByName` of @repo/mutations). */
  mutations: Readonly<Record<string, MutationDefinition>>;
  /** Sends one write to the api (see `trpcTransport`). */
  transport: MutationTransport;
  /** The signed-in user, as reducers see it. */
  actor: MutationActor;
  /** The shape endpoint: the app's proxy in a browser, the sync service in Node. */
  shapeUrl: string;
  /** Extra query parameters for every shape request (e.g. the sync secret in a trusted Node app). */
  shapeParams?: Record<string, string>;
  /** Headers for every shape request (e.g. a bearer token for the proxy). */
  shapeHeaders?: Record<string, string>;
  /** Where the queue survives reloads (default: memory). */
  storage?: OutboxStorage;
  /**
   * Runtimes sharing `storage` (browser tabs: `browserTabs(name)`): one sends, all show every
   * pending write. Default: this runtime alone.
   */
  tabs?: TabCoordinator;
  /** How long a committed write may wait for its txid on the shapes (default 20 s). */
  txidTimeoutMs?: number;
  /** Backoff of retries after transient failures (default 250 ms doubling up to 30 s). */
  retry?: { initialMs?: number; maxMs?: number };
  /**
   * How long one send may go unanswered before it is retried (default 30 s): a request on a
   * connection that died without closing never settles, and would hold the queue.
   */
  sendTimeoutMs?: number;
  /** Creates the stream of a shape (tests pass a fake); default `new ShapeStream(options)`. */
  createStream?: CreateStream;
  /** How long a shape nobody holds keeps its stream open (default 1 s). */
  shapeLingerMs?: number;
  /** Problems that do not belong to one caller (a reducer that threw, a storage failure). */
  onError?: (error: Error) => void;
}

export interface MutateOptions {
  /** Overrides the client's `txidTimeoutMs` for this write. */
  txidTimeoutMs?: number;
}

/** A write that left the queue without being confirmed, for the UI to show. */
export interface FailedWrite {
  mutationId: number;
  name: string;
  error: MutationRejectedError | TxidTimeoutError | OutboxError;
  rows: { table: TableName; id: string }[];
}

/** One queued write as `pendingWrites()` lists it. */
export interface PendingWriteInfo {
  /** 0 until the stored queue has loaded and the write has its id. */
  mutationId: number;
  name: string;
  input: unknown;
  state: PendingWrite["state"];
  txid: Txid | undefined;
}
