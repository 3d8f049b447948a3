/**
 * The client runtime: live shapes + one queue of pending writes → one view.
 *
 *   view = synced rows (from every shape's ShapeStream) ⊕ overlay (pending reducers, in order)
 *
 * 1. `mutate()` validates the input, runs the reducer over the current view and adds its changes
 *    to the overlay: the row is visible before `mutate` returns. The write is stored in the
 *    outbox and sent in mutation-id order, one at a time, retried on transient failures with the
 *    same ids (the api's log makes a replay return the recorded answer).
 * 2. The api answers `{ data, txid }`. The write now waits for its txid on every shape whose
 *    rows it touched (or for a `snapshot-end` proving the transaction visible); a write that
 *    touches no followed shape is done at once.
 * 3. A shape batch (up to `up-to-date`) is applied to the synced rows; writes it confirms leave
 *    the queue; the remaining reducers are re-run over the new synced rows (rebase) and the
 *    views change once, in the same notification — the synced row replaces the optimistic one
 *    with no frame in between. Incoming sync is never held back by writes in flight.
 * 4. A rejection removes that write alone (later ones are re-applied); a missing txid ends in
 *    `TxidTimeoutError` after `txidTimeoutMs`.
 */
import { isVisibleInSnapshot } from "@electric-sql/client";

import type {
  MutationDefinition,
  MutationInput,
  RowChange,
  RowsView,
} from "@repo/mutations";
import type { TableName } from "@repo/schema";

import type {
  FailedWrite,
  MutateOptions,
  PendingWriteInfo,
  SyncClientOptions,
} from "./client-options";
import type { OutboxStorage } from "./outbox/storage";
import type { PendingWrite } from "./pending-write";
import type {
  ShapeDefinition,
  ShapeHandle,
  ShapeSnapshot,
  ShapeSubscription,
} from "./shape-registry";
import type { AppliedBatch } from "./synced-shape";
import type { TabCoordinator, TabMessage } from "./tabs";
import type { SendFailure } from "./transport";
import type { MutationResult, OutboxEntry, SyncStatus, Txid } from "./types";
import { browserWindow, fieldErrorsOf } from "./client-helpers";
import {
  ClientClosedError,
  InvalidMutationInputError,
  MutationRejectedError,
  OutboxError,
  TxidTimeoutError,
} from "./errors";
import { addId, OptimisticView, rowIdOf } from "./optimistic-view";
import { OutboxSender } from "./outbox-sender";
import { memoryOutbox, withMemoryFallback } from "./outbox/storage";
import { ShapeRegistry } from "./shape-registry";
import { singleTab } from "./tabs";

type Listener = () => void;

const DEFAULT_TXID_TIMEOUT_MS = 20_000;

export class SyncClient {
  /** Resolves once the stored queue is loaded (and `clientId` known). */
  readonly ready: Promise<void>;
  private id = "";
  private loaded = false;
  private closed = false;
  private readonly storage: OutboxStorage;
  private readonly tabs: TabCoordinator;
  /** Tab messages that arrived before the stored queue was loaded. */
  private readonly early: TabMessage[] = [];
  /** In mutation-id order; writes not stored yet last. */
  private readonly pending: PendingWrite[] = [];
  private readonly shapes: ShapeRegistry;
  private readonly view: OptimisticView;
  private readonly sender: OutboxSender;
  /** Replaced (never mutated) on change, so `useSyncExternalStore` sees a new value. */
  private failed: readonly FailedWrite[] = [];
  private offline = false;
  private unauthorized = false;
  private status: SyncStatus = {
    connection: "online",
    pending: 0,
    unauthorized: false,
  };
  private readonly statusListeners = new Set<Listener>();
  private readonly failureListeners = new Set<Listener>();

  constructor(private readonly options: SyncClientOptions) {
    this.storage = withMemoryFallback(
      options.storage ?? memoryOutbox(),
      (error) =>
        this.reportError(
          new OutboxError(
            "the outbox could not be loaded: this session's writes are kept in memory only",
            { cause: error },
          ),
        ),
    );
    this.tabs = options.tabs ?? singleTab();
    this.shapes = new ShapeRegistry({
      shapeUrl: options.shapeUrl,
      shapeParams: options.shapeParams,
      shapeHeaders: options.shapeHeaders,
      createStream: options.createStream,
      lingerMs: options.shapeLingerMs,
      isPendingRow: (table, id) => this.view.isPending(table, id),
      isFailedRow: (table, id) => this.isFailedRow(table, id),
      onOpened: (shape) =>
        this.view.publish(
          new Map([
            [
              shape.table,
              new Set([
                ...shape.synced.rows.keys(),
                ...this.view.pendingIds(shape.table),
              ]),
            ],
          ]),
        ),
      onBatch: (shape, batch) => this.applyBatch(shape, batch),
      onConnection: (connected, error) => {
        if (error) this.reportError(error);
        this.setOffline(!connected);
      },
      onClosed: (shape) => this.shapeClosed(shape),
    });
    this.view = new OptimisticView(this.shapes, (write, rows) =>
      this.reduce(write, rows),
    );
    this.sender = new OutboxSender({
      storage: this.storage,
      transport: options.transport,
      retry: options.retry,
      sendTimeoutMs: options.sendTimeoutMs,
      clientId: () => this.id,
      writeFor: (entry) =>
        this.pending.find((write) => write.mutationId === entry.mutationId) ??
        this.adopt(entry),
      onSending: (write) => {
        write.state = "sending";
        this.updateStatus();
      },
      onAnswered: (write, result) => {
        this.setReachable();
        this.tabs.post({
          type: "answered",
          mutationId: write.mutationId,
          result,
        });
        this.answered(write, result);
      },
      onRefused: (write, failure) => {
        this.setReachable();
        const { kind: _kind, ...refusal } = failure;
        this.tabs.post({
          type: "refused",
          mutationId: write.mutationId,
          ...refusal,
        });
        this.refused(write, refusal);
      },
      onTransient: (failure) => {
        for (const write of this.pending)
          if (write.state === "sending") write.state = "queued";
        this.offline = failure.offline;
        this.unauthorized = failure.unauthorized;
        this.updateStatus();
      },
      onIdle: () => this.updateStatus(),
      onError: (error) => this.reportError(error),
    });
    this.tabs.subscribe((message) => this.onTabMessage(message));
    // A browser that says it is back online is worth a try before the backoff runs out.
    browserWindow()?.addEventListener("online", this.retryNow);
    this.ready = this.load();
  }

  /** This device's client id (from the outbox; '' until `ready`). */
  get clientId(): string {
    return this.id;
  }

  // 1. Shapes ------------------------------------------------------------------------------

  /**
   * Follows a shape (one stream per distinct definition, shared by every caller). Call the
   * returned `release` when done; the stream stops with the last one (after a short linger).
   */
  shape<TTable extends TableName>(
    definition: ShapeDefinition<TTable>,
  ): ShapeSubscription<TTable> {
    return this.shapes.acquire(definition);
  }

  /** A shape's current snapshot without following it (server renders, first client render). */
  peekShape<TTable extends TableName>(
    definition: ShapeDefinition<TTable>,
  ): ShapeSnapshot<TTable> {
    return this.shapes.peek(definition);
  }

  private shapeClosed(shape: ShapeHandle): void {
    // Writes waiting on it wait on the shapes that remain.
    for (const write of [...this.pending])
      if (write.waitingOn?.delete(shape)) this.settleIfConfirmed(write);
    this.view.rebase(this.pending);
    this.updateStatus();
  }

  // 2. Writes ------------------------------------------------------------------------------

  /**
   * Applies a write optimistically at once and queues it. The promise resolves with the api's
   * `{ data, txid }` once the write is **synced** (its txid reached every shape it touched),
   * and rejects with `InvalidMutationInputError`, `MutationRejectedError` (rolled back) or
   * `TxidTimeoutError`.
   */
  mutate<TDefinition extends MutationDefinition>(
    definition: TDefinition,
    input: MutationInput<TDefinition>,
    options: MutateOptions = {},
  ): Promise<MutationResult> {
    if (this.closed)
      return Promise.reject(new ClientClosedError("client is closed"));
    const parsed = definition.input.safeParse(input);
    if (!parsed.success)
      return Promise.reject(
        new InvalidMutationInputError(
          definition.name,
          fieldErrorsOf(parsed.error.issues),
          { cause: parsed.error },
        ),
      );
    const write: PendingWrite = {
      mutationId: 0,
      entry: {
        mutationId: 0,
        name: definition.name,
        input,
        queuedAt: Date.now(),
      },
      definition,
      args: parsed.data,
      changes: [],
      state: "queued",
      txidTimeoutMs: options.txidTimeoutMs ?? this.txidTimeoutMs,
    };
    const settled = new Promise<MutationResult>((resolve, reject) => {
      write.settle = { resolve, reject };
    });
    this.pending.push(write);
    this.view.append(write);
    if (this.loaded) this.store(write);
    this.updateStatus();
    return settled;
  }

  /** The queue, in the order its reducers apply (what a "pending changes" list shows). */
  pendingWrites(): readonly PendingWriteInfo[] {
    return this.pending.map((write) => ({
      mutationId: write.mutationId,
      name: write.definition.name,
      input: write.entry.input,
      state: write.state,
      txid: write.result?.txid,
    }));
  }

  /** Rows of the whole client view (every shape, pending writes applied): what reducers see. */
  get rows(): RowsView {
    return this.view.rows;
  }

  /** Sends the queue now instead of waiting for the backoff (e.g. the browser is back online). */
  retryNow = (): void => {
    this.sender.retryNow();
  };

  private get txidTimeoutMs(): number {
    return this.options.txidTimeoutMs ?? DEFAULT_TXID_TIMEOUT_MS;
  }

  private reduce(write: PendingWrite, view: RowsView): RowChange[] {
    try {
      return write.definition.reduce(view, write.args, this.options.actor);
    } catch (error) {
      // A reducer that throws predicts nothing; the server's rows will tell.
      this.reportError(error);
      return [];
    }
  }

  // 3. The outbox --------------------------------------------------------------------------

  /**
   * Stores the write; the storage gives it its mutation id (atomically across tabs). The other
   * tabs are told, and the sender picks it up from the stored queue.
   */
  private store(write: PendingWrite): void {
    const { mutationId: _unassigned, ...entry } = write.entry;
    this.storage.add(entry).then(
      (stored) => {
        write.mutationId = stored.mutationId;
        write.entry = stored;
        this.tabs.post({ type: "added", entry: stored });
        this.keepInOrder();
        this.sender.pump();
      },
      (error: unknown) => {
        // Not stored means not sendable: say so now rather than lose it on the next reload.
        this.finish(
          write,
          new OutboxError("the write could not be stored", { cause: error }),
        );
        this.view.rebase(this.pending);
      },
    );
  }

  /** Makes a pending write of a stored entry (restored, or added by another tab). */
  private adopt(entry: OutboxEntry): PendingWrite | undefined {
    const definition = this.options.mutations[entry.name];
    const parsed = definition?.input.safeParse(entry.input);
    if (!definition || !parsed?.success) {
      // Written by another version of the app: it can no longer be applied or sent.
      this.reportError(
        new OutboxError(
          `dropping stored write ${entry.mutationId} (${entry.name}): unknown or invalid`,
        ),
      );
      void this.storage
        .remove(entry.mutationId)
        .catch((error: unknown) => this.reportError(error));
      return undefined;
    }
    const write: PendingWrite = {
      mutationId: entry.mutationId,
      entry,
      definition,
      args: parsed.data,
      changes: [],
      state: "queued",
      txidTimeoutMs: this.txidTimeoutMs,
    };
    this.pending.push(write);
    if (!this.keepInOrder()) this.view.rebase(this.pending);
    this.updateStatus();
    return write;
  }

  /**
   * Reducers apply in mutation-id order, the order the api applies the writes in; a write not
   * stored yet goes last. Rebases (and says so) when a write of another tab took a place before
   * one of ours.
   */
  private keepInOrder(): boolean {
    const position = (write: PendingWrite) =>
      write.mutationId || Number.MAX_SAFE_INTEGER;
    const sorted = [...this.pending].sort((a, b) => position(a) - position(b));
    if (sorted.every((write, index) => write === this.pending[index]))
      return false;
    this.pending.splice(0, this.pending.length, ...sorted);
    this.view.rebase(this.pending);
    return true;
  }

  private async load(): Promise<void> {
    const stored = await this.storage.load();
    this.id = stored.clientId;
    for (const entry of stored.entries) this.adopt(entry);
    this.loaded = true;
    for (const write of this.pending)
      if (write.mutationId === 0) this.store(write);
    for (const message of this.early.splice(0)) this.onTabMessage(message);
    this.tabs.whenLeader(() => {
      this.sender.isLeader = true;
      this.sender.pump();
    });
  }

  private onTabMessage(message: TabMessage): void {
    if (!this.loaded) {
      this.early.push(message);
      return;
    }
    if (message.type === "added") {
      const known = this.pending.some(
        (write) => write.mutationId === message.entry.mutationId,
      );
      if (!known) this.adopt(message.entry);
      // If this tab sends, the new write is in the stored queue now.
      this.sender.pump();
      return;
    }
    const write = this.pending.find(
      (pending) => pending.mutationId === message.mutationId,
    );
    if (!write) return;
    if (message.type === "answered") {
      if (write.state !== "awaiting-txid") this.answered(write, message.result);
    } else {
      const { type: _type, mutationId: _id, ...refusal } = message;
      this.refused(write, refusal);
    }
  }

  // 4. Reconciliation ----------------------------------------------------------------------

  /** The api committed the write: wait for its txid where it changed rows we follow. */
  private answered(write: PendingWrite, result: MutationResult): void {
    write.state = "awaiting-txid";
    write.result = result;
    const waitingOn = new Set<ShapeHandle>();
    for (const change of write.changes) {
      const id = rowIdOf(change);
      for (const shape of this.shapes.of(change.table))
        if (
          shape.definition.live !== false &&
          (write.shownIn?.has(shape) || shape.synced.rows.has(id))
        )
          waitingOn.add(shape);
    }
    for (const shape of waitingOn)
      if (
        shape.synced.hasSeen(result.txid) ||
        (shape.synced.snapshot &&
          isVisibleInSnapshot(result.txid, shape.synced.snapshot))
      )
        waitingOn.delete(shape);
    write.waitingOn = waitingOn;
    if (this.settleIfConfirmed(write)) this.view.rebase(this.pending);
    else
      write.timer = setTimeout(() => this.timedOut(write), write.txidTimeoutMs);
    this.updateStatus();
  }

  /** Rollback of this write alone: the later ones are re-applied without it. */
  private refused(
    write: PendingWrite,
    refusal: Omit<Extract<SendFailure, { kind: "rejected" }>, "kind">,
  ): void {
    this.finish(
      write,
      new MutationRejectedError(write.definition.name, refusal),
    );
    this.view.rebase(this.pending);
  }

  private applyBatch(shape: ShapeHandle, batch: AppliedBatch): void {
    const { dirty, txids, snapshots } = batch;
    if (txids.length > 0 || snapshots.length > 0) {
      const arrived = new Set(txids);
      for (const write of [...this.pending]) {
        const txid = write.result?.txid;
        if (txid === undefined || !write.waitingOn?.has(shape)) continue;
        if (
          arrived.has(txid) ||
          snapshots.some((s) => isVisibleInSnapshot(txid, s))
        )
          write.waitingOn.delete(shape);
        this.settleIfConfirmed(write);
      }
    }
    // One rebase for the whole batch: the synced rows and the confirmed writes change together.
    this.view.rebase(this.pending, new Map([[shape.table, dirty]]));
    this.updateStatus();
  }

  /** Removes a write whose txid every shape has; true if it did. Views refresh on rebase. */
  private settleIfConfirmed(write: PendingWrite): boolean {
    if (write.state !== "awaiting-txid" || (write.waitingOn?.size ?? 0) > 0)
      return false;
    this.finish(write);
    return true;
  }

  private timedOut(write: PendingWrite): void {
    if (!this.pending.includes(write) || !write.result) return;
    const seenTxids: Record<string, Txid[]> = {};
    for (const shape of write.waitingOn ?? [])
      seenTxids[shape.key] = shape.synced.latestTxids(10);
    this.finish(
      write,
      new TxidTimeoutError(
        write.definition.name,
        write.result.txid,
        write.txidTimeoutMs,
        seenTxids,
      ),
    );
    this.view.rebase(this.pending);
  }

  /**
   * Takes a write out of the queue (done, or failed with `error`) and settles its promise. The
   * caller rebases, so several writes confirmed by one batch change the views once.
   */
  private finish(
    write: PendingWrite,
    error?: MutationRejectedError | TxidTimeoutError | OutboxError,
  ): void {
    const index = this.pending.indexOf(write);
    if (index < 0) return;
    this.pending.splice(index, 1);
    clearTimeout(write.timer);
    if (error) {
      this.failed = [
        ...this.failed,
        {
          mutationId: write.mutationId,
          name: write.definition.name,
          error,
          rows: write.changes.map((change) => ({
            table: change.table,
            id: rowIdOf(change),
          })),
        },
      ];
      for (const listener of this.failureListeners) listener();
      // The rejection may reach no one (a write restored from the outbox has no caller).
      if (write.settle) write.settle.reject(error);
      else this.reportError(error);
    } else if (write.result) write.settle?.resolve(write.result);
    this.updateStatus();
  }

  // 5. Status and failures -----------------------------------------------------------------

  getStatus = (): SyncStatus => this.status;

  subscribeStatus = (listener: Listener): (() => void) => {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  };

  /** Writes that failed (rejected or timed out), oldest first, until dismissed. */
  getFailures = (): readonly FailedWrite[] => this.failed;

  subscribeFailures = (listener: Listener): (() => void) => {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  };

  isFailedRow(table: TableName, id: string): boolean {
    return this.failed.some((failure) =>
      failure.rows.some((row) => row.table === table && row.id === id),
    );
  }

  dismissFailure(mutationId: number): void {
    const failure = this.failed.find((f) => f.mutationId === mutationId);
    if (!failure) return;
    this.failed = this.failed.filter((f) => f !== failure);
    for (const listener of this.failureListeners) listener();
    this.view.publish(
      failure.rows.reduce(
        (dirty, row) => addId(dirty, row.table, row.id),
        new Map<TableName, Set<string>>(),
      ),
    );
  }

  /** The api answered: whatever failed before was not the network. */
  private setReachable(): void {
    this.offline = false;
    this.unauthorized = false;
  }

  private setOffline(offline: boolean): void {
    if (this.offline === offline) return;
    this.offline = offline;
    if (!offline) this.sender.retryNow();
    this.updateStatus();
  }

  private updateStatus(): void {
    const connection: SyncStatus["connection"] = this.offline
      ? "offline"
      : this.sender.isSending
        ? "sending"
        : this.pending.length === 0 && this.shapes.allUpToDate
          ? "synced"
          : "online";
    const { pending, unauthorized } = this.status;
    if (
      connection === this.status.connection &&
      pending === this.pending.length &&
      unauthorized === this.unauthorized
    )
      return;
    this.status = {
      connection,
      pending: this.pending.length,
      unauthorized: this.unauthorized,
    };
    for (const listener of this.statusListeners) listener();
  }

  private reportError(error: unknown): void {
    this.options.onError?.(
      error instanceof Error ? error : new Error(String(error)),
    );
  }

  /** Stops every stream and timer; queued writes stay in the outbox for the next session. */
  close(): void {
    this.closed = true;
    browserWindow()?.removeEventListener("online", this.retryNow);
    this.tabs.close();
    this.sender.stop();
    this.shapes.closeAll();
    for (const write of this.pending) {
      clearTimeout(write.timer);
      write.settle?.reject(
        new ClientClosedError("client closed before the write was synced"),
      );
    }
  }
}

export function createSyncClient(options: SyncClientOptions): SyncClient {
  return new SyncClient(options);
}
