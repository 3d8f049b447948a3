import type { RowOf, TableName } from "@repo/schema";

/** A Postgres transaction id as Electric sends it in `txids` (32-bit xid, a JSON number). */
export type Txid = number;

/** What every mutation procedure answers. */
export interface MutationResult<TData = unknown> {
  data: TData;
  txid: Txid;
}

/** Any synced row (every synced table has a uuid `id`). */
export type AnyRow = RowOf<TableName>;

/**
 * A queued write as the outbox stores it: enough to re-apply it optimistically and to send it
 * again, with the same ids, after a reload or restart.
 */
export interface OutboxEntry {
  mutationId: number;
  /** The mutation's name (`issues.create`), resolved against the app's definitions. */
  name: string;
  /** The input as the caller gave it (before zod's transforms), sent as `args`. */
  input: unknown;
  /** Client clock when queued (ms), for display and diagnostics. */
  queuedAt: number;
}

/** The overall state a UI shows: connection, work in flight, and how much is pending. */
export interface SyncStatus {
  /**
   * `offline`: the last attempt to reach the API or a shape failed on the network;
   * `sending`: a write is on its way to the API;
   * `online`: connected, writes waiting for their txid (or nothing to do yet);
   * `synced`: connected, nothing pending, every shape up to date.
   */
  connection: "offline" | "sending" | "online" | "synced";
  /** Writes not yet confirmed by the shapes (queued, in flight, or awaiting their txid). */
  pending: number;
  /** The API refused the session (sign in again); queued writes wait meanwhile. */
  unauthorized: boolean;
}
