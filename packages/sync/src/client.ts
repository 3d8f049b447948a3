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
import type {
  Offset,
  PostgresSnapshot,
  Row,
  ShapeStreamInterface,
  ShapeStreamOptions,
} from "@electric-sql/client";
import {
  isVisibleInSnapshot,
  ShapeStream,
  snakeCamelMapper,
} from "@electric-sql/client";

import type {
  MutationActor,
  MutationDefinition,
  MutationInput,
  RowChange,
  RowsView,
} from "@repo/mutations";
import type { RowOf, TableName } from "@repo/schema";
import { SHAPE_PARSER } from "@repo/schema";

import type { OutboxStorage } from "./outbox/storage";
import type { SyncedRows } from "./overlay";
import type { TabCoordinator, TabMessage } from "./tabs";
import type { MutationTransport, SendFailure } from "./transport";
import type {
  AnyRow,
  MutationResult,
  OutboxEntry,
  SyncStatus,
  Txid,
} from "./types";
import {
  ClientClosedError,
  InvalidMutationInputError,
  MutationRejectedError,
  OutboxError,
  TxidTimeoutError,
} from "./errors";
import { memoryOutbox } from "./outbox/storage";
import { DELETED, Overlay, overlayView } from "./overlay";
import { SyncedRowsOfShape } from "./synced-shape";
import { singleTab } from "./tabs";
import { classifyFailure } from "./transport";

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
  /** Creates the stream of a shape (tests pass a fake); default `new ShapeStream(options)`. */
  createStream?: (
    options: ShapeStreamOptions<unknown>,
  ) => ShapeStreamInterface<Row<unknown>>;
  /** How long a shape nobody holds keeps its stream open (default 1 s). */
  shapeLingerMs?: number;
  /** Problems that do not belong to one caller (a reducer that threw, a storage failure). */
  onError?: (error: Error) => void;
}

export interface ShapeDefinition<TTable extends TableName> {
  table: TTable;
  where?: string;
  params?: readonly string[];
  columns?: readonly string[];
  /**
   * The shape's `where` as a predicate, so optimistic rows join or leave it as the server's
   * rows will. Without it a shape with a `where` shows only its own rows changed (no pending
   * inserts); a shape without `where` shows every pending row of its table.
   */
  matches?: (row: RowOf<TTable>) => boolean;
  /** Rows a server render used, with the handle and offset to resume the stream from. */
  initial?: { handle: string; offset: Offset; rows: readonly RowOf<TTable>[] };
}

/** What a view of a shape shows at one moment (a new object whenever it changes). */
export interface ShapeSnapshot<TTable extends TableName> {
  readonly version: number;
  /** Visible rows by id. Read during render; the map itself is updated in place. */
  readonly rows: ReadonlyMap<string, RowOf<TTable>>;
  readonly isUpToDate: boolean;
  /** Whether a pending write changes this row. */
  readonly isPending: (id: string) => boolean;
  /** Whether a write on this row failed lately (until `dismissFailure`). */
  readonly isFailed: (id: string) => boolean;
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
  state: "queued" | "sending" | "awaiting-txid";
  txid: Txid | undefined;
}

type Listener = () => void;

interface PendingWrite {
  /** 0 until the outbox has assigned it (after the stored queue is loaded). */
  mutationId: number;
  entry: OutboxEntry;
  definition: MutationDefinition;
  args: unknown;
  /** What the reducer predicted at the last rebase. */
  changes: RowChange[];
  state: "queued" | "sending" | "awaiting-txid";
  txidTimeoutMs: number;
  result?: MutationResult;
  waitingOn?: Set<ShapeHandle>;
  timer?: ReturnType<typeof setTimeout>;
  stored?: Promise<void>;
  settle?: {
    resolve: (result: MutationResult) => void;
    reject: (error: Error) => void;
  };
}

class ShapeHandle {
  readonly synced: SyncedRowsOfShape;
  readonly visible = new Map<string, AnyRow>();
  readonly listeners = new Set<Listener>();
  references = 0;
  lingering: ReturnType<typeof setTimeout> | undefined;
  snapshot: ShapeSnapshot<TableName>;
  unsubscribe: () => void = () => undefined;

  constructor(
    readonly key: string,
    readonly definition: ShapeDefinition<TableName>,
    private readonly client: SyncClient,
  ) {
    this.synced = new SyncedRowsOfShape(definition.table);
    this.snapshot = this.nextSnapshot(0);
  }

  get table(): TableName {
    return this.definition.table;
  }

  nextSnapshot(version: number): ShapeSnapshot<TableName> {
    const { client, synced, table } = this;
    return {
      version,
      rows: this.visible,
      isUpToDate: synced.isUpToDate,
      isPending: (id) => client.isPendingRow(table, id),
      isFailed: (id) => client.isFailedRow(table, id),
    };
  }
}

const DEFAULT_TXID_TIMEOUT_MS = 20_000;

export class SyncClient {
  /** Resolves once the stored queue is loaded (and `clientId` known). */
  readonly ready: Promise<void>;
  private id = "";
  private isLeader = false;
  private readonly tabs: TabCoordinator;
  /** Tab messages that arrived before the stored queue was loaded. */
  private readonly early: TabMessage[] = [];
  private loaded = false;
  private closed = false;
  private readonly storage: OutboxStorage;
  private readonly pending: PendingWrite[] = [];
  private overlay = new Overlay();
  private readonly shapes = new Map<string, ShapeHandle>();
  private readonly shapesByTable = new Map<TableName, Set<ShapeHandle>>();
  private readonly idleSnapshots = new Map<string, ShapeSnapshot<TableName>>();
  /** Replaced (never mutated) on change, so `useSyncExternalStore` sees a new value. */
  private failed: readonly FailedWrite[] = [];
  private sending = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryAttempt = 0;
  private offline = false;
  private unauthorized = false;
  private status: SyncStatus = {
    connection: "online",
    pending: 0,
    unauthorized: false,
  };
  private readonly statusListeners = new Set<Listener>();
  private readonly failureListeners = new Set<Listener>();

  /** Synced rows across shapes: a row in several shapes is one row (the same transaction). */
  private readonly syncedRows: SyncedRows = {
    get: (table, id) => {
      for (const shape of this.shapesOf(table)) {
        const row = shape.synced.rows.get(id);
        if (row) return row;
      }
      return undefined;
    },
    list: (table) => this.listSynced(table),
  };

  constructor(private readonly options: SyncClientOptions) {
    this.storage = options.storage ?? memoryOutbox();
    this.tabs = options.tabs ?? singleTab();
    this.tabs.subscribe((message) => this.onTabMessage(message));
    this.ready = this.load();
  }

  /** This device's client id (from the outbox; '' until `ready`). */
  get clientId(): string {
    return this.id;
  }

  // 1. Shapes ------------------------------------------------------------------------------

  /**
   * Follows a shape (one stream per distinct definition, shared by every caller). Call the
   * returned `release` when done; the stream stops with the last one.
   */
  shape<TTable extends TableName>(
    definition: ShapeDefinition<TTable>,
  ): ShapeSubscription<TTable> {
    const key = shapeKey(definition);
    let handle = this.shapes.get(key);
    if (!handle) {
      handle = new ShapeHandle(key, definition, this);
      this.openShape(handle);
    }
    handle.references++;
    clearTimeout(handle.lingering);
    const opened = handle;
    let released = false;
    return {
      getSnapshot: () => opened.snapshot,
      subscribe: (listener) => {
        opened.listeners.add(listener);
        return () => opened.listeners.delete(listener);
      },
      release: () => {
        if (released) return;
        released = true;
        if (--opened.references > 0) return;
        // A component that unmounts and mounts again (React strict mode, a route change
        // back) keeps its stream: close only if nobody takes the shape within the linger.
        opened.lingering = setTimeout(() => {
          if (opened.references === 0 && this.shapes.get(key) === opened)
            this.closeShape(opened);
        }, this.options.shapeLingerMs ?? 1_000);
      },
    };
  }

  /**
   * The current snapshot of a shape without following it: what a render shows before its
   * subscription starts (and on the server, where nothing is followed). Before the shape is
   * open that is its `initial` rows (from a server render) or nothing; the same object until
   * the shape changes.
   */
  peekShape<TTable extends TableName>(
    definition: ShapeDefinition<TTable>,
  ): ShapeSnapshot<TTable> {
    const key = shapeKey(definition);
    const open = this.shapes.get(key);
    if (open) return open.snapshot;
    let idle = this.idleSnapshots.get(key);
    if (!idle) {
      const rows = new Map<string, AnyRow>();
      for (const row of definition.initial?.rows ?? []) rows.set(row.id, row);
      idle = {
        version: 0,
        rows,
        isUpToDate: false,
        isPending: () => false,
        isFailed: () => false,
      };
      this.idleSnapshots.set(key, idle);
    }
    return idle;
  }

  private openShape(handle: ShapeHandle): void {
    const { definition } = handle;
    this.shapes.set(handle.key, handle);
    let tableShapes = this.shapesByTable.get(definition.table);
    if (!tableShapes)
      this.shapesByTable.set(definition.table, (tableShapes = new Set()));
    tableShapes.add(handle);
    if (definition.initial) {
      for (const row of definition.initial.rows)
        handle.synced.rows.set(row.id, row);
      this.publish(
        new Map([[definition.table, new Set(handle.synced.rows.keys())]]),
      );
    }
    const stream = (this.options.createStream ?? defaultStream)({
      url: this.options.shapeUrl,
      params: {
        ...this.options.shapeParams,
        table: definition.table,
        ...(definition.where !== undefined && { where: definition.where }),
        ...(definition.params && { params: [...definition.params] }),
        ...(definition.columns && { columns: [...definition.columns] }),
      },
      ...(this.options.shapeHeaders && { headers: this.options.shapeHeaders }),
      ...(definition.initial && {
        handle: definition.initial.handle,
        offset: definition.initial.offset,
      }),
      columnMapper: snakeCamelMapper(),
      parser: SHAPE_PARSER,
    });
    handle.unsubscribe = stream.subscribe(
      (messages) => {
        this.setOffline(false);
        const batch = handle.synced.receive(messages);
        if (batch)
          this.applyBatch(handle, batch.dirty, batch.txids, batch.snapshots);
      },
      (error) => {
        this.setOffline(true);
        this.reportError(error);
      },
    );
  }

  private closeShape(handle: ShapeHandle): void {
    handle.unsubscribe();
    this.idleSnapshots.delete(handle.key);
    this.shapes.delete(handle.key);
    this.shapesByTable.get(handle.table)?.delete(handle);
    // Writes waiting on it wait on the shapes that remain.
    for (const write of this.pending)
      if (write.waitingOn?.delete(handle)) this.settleIfConfirmed(write);
    this.rebase(new Map());
  }

  private shapesOf(table: TableName): Iterable<ShapeHandle> {
    return this.shapesByTable.get(table) ?? [];
  }

  private *listSynced(table: TableName): Iterable<AnyRow> {
    const shapes = [...this.shapesOf(table)];
    const [only] = shapes;
    if (shapes.length === 1 && only) {
      yield* only.synced.rows.values();
      return;
    }
    const seen = new Set<string>();
    for (const shape of shapes)
      for (const row of shape.synced.rows.values())
        if (!seen.has(row.id)) {
          seen.add(row.id);
          yield row;
        }
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
    // Appending a write to the end of the queue = applying it on top of the current view.
    write.changes = this.reduce(
      write,
      overlayView(this.overlay, this.syncedRows),
    );
    this.overlay.apply(
      overlayView(this.overlay, this.syncedRows),
      write.changes,
    );
    this.publish(idsOf(write.changes));
    if (this.loaded) this.store(write);
    this.updateStatus();
    return settled;
  }

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

  /**
   * Stores the write; the storage gives it its mutation id (atomically across tabs). The other
   * tabs are told, and the sender picks it up from the stored queue.
   */
  private store(write: PendingWrite): void {
    const { mutationId: _unassigned, ...entry } = write.entry;
    write.stored = this.storage.add(entry).then(
      (stored) => {
        write.mutationId = stored.mutationId;
        write.entry = stored;
        this.tabs.post({ type: "added", entry: stored });
        this.keepInOrder();
        this.pump();
      },
      (error: unknown) => {
        // Not stored means not sendable: say so now rather than lose it on the next reload.
        this.finish(
          write,
          new OutboxError("the write could not be stored", { cause: error }),
        );
        this.rebase(new Map());
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
      stored: Promise.resolve(),
    };
    this.pending.push(write);
    this.keepInOrder();
    return write;
  }

  /**
   * Reducers apply in mutation-id order, the order the api applies the writes in; a write not
   * stored yet goes last. Rebases when a write of another tab took a place before ours.
   */
  private keepInOrder(): void {
    const position = (write: PendingWrite) =>
      write.mutationId || Number.MAX_SAFE_INTEGER;
    const sorted = [...this.pending].sort((a, b) => position(a) - position(b));
    if (sorted.every((write, index) => write === this.pending[index])) return;
    this.pending.splice(0, this.pending.length, ...sorted);
    this.rebase(new Map());
  }

  private async load(): Promise<void> {
    const stored = await this.storage.load();
    this.id = stored.clientId;
    for (const entry of stored.entries) this.adopt(entry);
    this.loaded = true;
    for (const write of this.pending)
      if (write.mutationId === 0) this.store(write);
    for (const message of this.early.splice(0)) this.onTabMessage(message);
    this.rebase(new Map());
    this.tabs.whenLeader(() => {
      this.isLeader = true;
      this.pump();
    });
  }

  private onTabMessage(message: TabMessage): void {
    if (!this.loaded) {
      this.early.push(message);
      return;
    }
    const write =
      message.type === "added"
        ? undefined
        : this.pending.find(
            (pending) => pending.mutationId === message.mutationId,
          );
    switch (message.type) {
      case "added":
        if (
          !this.pending.some(
            (pending) => pending.mutationId === message.entry.mutationId,
          )
        ) {
          this.adopt(message.entry);
          this.rebase(new Map());
        }
        // If this tab sends, the new write is in the stored queue now.
        this.pump();
        break;
      case "answered":
        if (write && write.state !== "awaiting-txid")
          this.answered(write, message.result);
        break;
      case "refused":
        if (write) {
          this.finish(
            write,
            new MutationRejectedError(
              write.definition.name,
              message.code,
              message.reason,
              message.message,
              message.fieldErrors,
            ),
          );
          this.rebase(new Map());
        }
        break;
    }
    this.updateStatus();
  }

  // 3. Sending (the leader tab only) ----------------------------------------------------------

  private pump(): void {
    if (
      this.sending ||
      this.closed ||
      !this.loaded ||
      this.retryTimer ||
      !this.isLeader
    )
      return;
    this.sending = true;
    void this.sendNext();
  }

  /** Sends the first write of the stored queue: the truth across tabs about what is unanswered. */
  private async sendNext(): Promise<void> {
    let write: PendingWrite | undefined;
    let more = false;
    try {
      const { entries } = await this.storage.load();
      const [entry] = entries;
      if (entry) {
        write = this.pending.find(
          (pending) => pending.mutationId === entry.mutationId,
        );
        if (!write) {
          write = this.adopt(entry);
          this.rebase(new Map());
          more = !write; // an unusable entry was dropped: look at the next one
        }
      }
    } catch (error) {
      this.reportError(error);
    }
    if (!write || this.closed) {
      this.sending = false;
      this.updateStatus();
      if (more) this.pump();
      return;
    }
    write.state = "sending";
    this.updateStatus();
    let result: MutationResult | undefined;
    let failure: SendFailure | undefined;
    try {
      result = await this.options.transport({
        name: write.definition.name,
        clientId: this.id,
        mutationId: write.mutationId,
        args: write.entry.input,
      });
    } catch (error) {
      failure = classifyFailure(error);
    }
    if (this.closed) return;
    if (result) {
      await this.forget(write);
      this.retryAttempt = 0;
      this.offline = false;
      this.unauthorized = false;
      this.tabs.post({
        type: "answered",
        mutationId: write.mutationId,
        result,
      });
      this.answered(write, result);
    } else if (failure?.kind === "rejected") {
      await this.forget(write);
      this.retryAttempt = 0;
      this.offline = false;
      const { kind: _kind, ...refusal } = failure;
      this.tabs.post({
        type: "refused",
        mutationId: write.mutationId,
        ...refusal,
      });
      this.finish(
        write,
        new MutationRejectedError(
          write.definition.name,
          failure.code,
          failure.reason,
          failure.message,
          failure.fieldErrors,
        ),
      );
      // Rollback of this write alone: the later ones are re-applied without it.
      this.rebase(new Map());
    } else {
      write.state = "queued";
      this.offline = failure?.kind === "transient" && failure.offline;
      this.unauthorized = failure?.kind === "transient" && failure.unauthorized;
      this.scheduleRetry();
    }
    this.sending = false;
    this.updateStatus();
    this.pump();
  }

  /**
   * Answered writes leave the stored queue at once: after a reload the shapes' snapshots already
   * contain a committed write, and a refused one must not be sent again.
   */
  private async forget(write: PendingWrite): Promise<void> {
    await this.storage
      .remove(write.mutationId)
      .catch((error: unknown) => this.reportError(error));
  }

  private scheduleRetry(): void {
    const initial = this.options.retry?.initialMs ?? 250;
    const max = this.options.retry?.maxMs ?? 30_000;
    const delay = Math.min(max, initial * 2 ** this.retryAttempt++);
    // Jitter keeps many clients from retrying in step after an outage.
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.pump();
      },
      delay / 2 + Math.random() * (delay / 2),
    );
  }

  /** Sends the queue now instead of waiting for the backoff (e.g. the browser is back online). */
  retryNow(): void {
    if (!this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryAttempt = 0;
    this.pump();
  }

  // 4. Reconciliation ----------------------------------------------------------------------

  /** The api committed the write: wait for its txid where it changed rows we follow. */
  private answered(write: PendingWrite, result: MutationResult): void {
    write.state = "awaiting-txid";
    write.result = result;
    const waitingOn = new Set<ShapeHandle>();
    for (const change of write.changes) {
      const id = change.type === "insert" ? change.row.id : change.id;
      for (const shape of this.shapesOf(change.table))
        if (shape.synced.rows.has(id) || shape.visible.has(id))
          waitingOn.add(shape);
    }
    for (const shape of waitingOn)
      if (confirms(shape.synced, result.txid)) waitingOn.delete(shape);
    write.waitingOn = waitingOn;
    if (this.settleIfConfirmed(write)) {
      this.rebase(new Map());
      return;
    }
    write.timer = setTimeout(() => this.timedOut(write), write.txidTimeoutMs);
  }

  private applyBatch(
    shape: ShapeHandle,
    dirty: Set<string>,
    txids: readonly Txid[],
    snapshots: readonly PostgresSnapshot[],
  ): void {
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
    this.rebase(new Map([[shape.table, dirty]]));
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
    this.rebase(new Map());
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
            id: change.type === "insert" ? change.row.id : change.id,
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

  // 5. The view ----------------------------------------------------------------------------

  /**
   * Re-runs every pending reducer, in order, over the current synced rows, then refreshes the
   * views for the rows that changed: `dirty` (synced changes) plus everything the old or the
   * new overlay holds.
   */
  private rebase(dirty: Map<TableName, Set<string>>): void {
    const previous = this.overlay;
    const next = new Overlay();
    if (this.pending.length > 0) {
      const view = overlayView(next, this.syncedRows);
      for (const write of this.pending) {
        write.changes = this.reduce(write, view);
        next.apply(view, write.changes);
      }
    }
    this.overlay = next;
    for (const [table, id] of previous.keys()) addId(dirty, table, id);
    for (const [table, id] of next.keys()) addId(dirty, table, id);
    this.publish(dirty);
  }

  /** Recomputes the visible value of the given rows in every shape of their table. */
  private publish(dirty: Map<TableName, Set<string>>): void {
    const changed = new Set<ShapeHandle>();
    for (const [table, ids] of dirty)
      for (const shape of this.shapesOf(table)) {
        let shapeChanged =
          shape.snapshot.isUpToDate !== shape.synced.isUpToDate;
        for (const id of ids) {
          const value = this.visibleIn(shape, id);
          if (value === shape.visible.get(id)) continue;
          if (value) shape.visible.set(id, value);
          else shape.visible.delete(id);
          shapeChanged = true;
        }
        if (shapeChanged) changed.add(shape);
      }
    for (const shape of changed) {
      shape.snapshot = shape.nextSnapshot(shape.snapshot.version + 1);
      for (const listener of shape.listeners) listener();
    }
    this.updateStatus();
  }

  private visibleIn(shape: ShapeHandle, id: string): AnyRow | undefined {
    const slot = this.overlay.slot(shape.table, id);
    if (slot === undefined) return shape.synced.rows.get(id);
    if (slot === DELETED) return undefined;
    const { matches, where } = shape.definition;
    if (matches) return matches(slot) ? slot : undefined;
    if (shape.synced.rows.has(id)) return slot;
    // A pending row new to the client joins shapes that take every row of the table.
    return where === undefined && !this.syncedRows.get(shape.table, id)
      ? slot
      : undefined;
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

  isPendingRow(table: TableName, id: string): boolean {
    return this.overlay.slot(table, id) !== undefined;
  }

  isFailedRow(table: TableName, id: string): boolean {
    return this.failed.some((failure) =>
      failure.rows.some((row) => row.table === table && row.id === id),
    );
  }

  /** Rows of the whole client view (every shape, pending writes applied): what reducers see. */
  get view(): RowsView {
    return overlayView(this.overlay, this.syncedRows);
  }

  // 6. Status and failures -----------------------------------------------------------------

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

  dismissFailure(mutationId: number): void {
    const index = this.failed.findIndex(
      (failure) => failure.mutationId === mutationId,
    );
    if (index < 0) return;
    const failure = this.failed[index];
    this.failed = this.failed.filter((_, i) => i !== index);
    for (const listener of this.failureListeners) listener();
    if (failure)
      this.publish(
        failure.rows.reduce(
          (dirty, row) => addId(dirty, row.table, row.id),
          new Map<TableName, Set<string>>(),
        ),
      );
  }

  private setOffline(offline: boolean): void {
    if (this.offline === offline) return;
    this.offline = offline;
    if (!offline) this.retryNow();
    this.updateStatus();
  }

  private updateStatus(): void {
    const allUpToDate = [...this.shapes.values()].every(
      (shape) => shape.synced.isUpToDate,
    );
    const connection: SyncStatus["connection"] = this.offline
      ? "offline"
      : this.sending
        ? "sending"
        : this.pending.length === 0 && allUpToDate
          ? "synced"
          : "online";
    const next = {
      connection,
      pending: this.pending.length,
      unauthorized: this.unauthorized,
    };
    if (
      next.connection === this.status.connection &&
      next.pending === this.status.pending &&
      next.unauthorized === this.status.unauthorized
    )
      return;
    this.status = next;
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
    this.tabs.close();
    clearTimeout(this.retryTimer);
    for (const shape of this.shapes.values()) {
      clearTimeout(shape.lingering);
      shape.unsubscribe();
    }
    this.shapes.clear();
    this.shapesByTable.clear();
    for (const write of this.pending) {
      clearTimeout(write.timer);
      write.settle?.reject(
        new ClientClosedError("client closed before the write was synced"),
      );
    }
  }
}

/** A caller's hold on a shape, shaped for `useSyncExternalStore`. */
export interface ShapeSubscription<TTable extends TableName> {
  getSnapshot(): ShapeSnapshot<TTable>;
  subscribe(listener: Listener): () => void;
  release(): void;
}

export function createSyncClient(options: SyncClientOptions): SyncClient {
  return new SyncClient(options);
}

function defaultStream(
  options: ShapeStreamOptions<unknown>,
): ShapeStreamInterface<Row<unknown>> {
  return new ShapeStream<Row<unknown>>(options);
}

/** A shape's txid proof: the change arrived, or the shape's snapshot already contains it. */
function confirms(synced: SyncedRowsOfShape, txid: Txid): boolean {
  return (
    synced.hasSeen(txid) ||
    (synced.snapshot !== undefined &&
      isVisibleInSnapshot(txid, synced.snapshot))
  );
}

function shapeKey(definition: ShapeDefinition<TableName>): string {
  const { table, where, params, columns } = definition;
  return JSON.stringify([table, where ?? null, params ?? [], columns ?? null]);
}

function idsOf(changes: readonly RowChange[]): Map<TableName, Set<string>> {
  const dirty = new Map<TableName, Set<string>>();
  for (const change of changes)
    addId(
      dirty,
      change.table,
      change.type === "insert" ? change.row.id : change.id,
    );
  return dirty;
}

function addId(
  dirty: Map<TableName, Set<string>>,
  table: TableName,
  id: string,
): Map<TableName, Set<string>> {
  let ids = dirty.get(table);
  if (!ids) dirty.set(table, (ids = new Set()));
  ids.add(id);
  return dirty;
}

function fieldErrorsOf(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): Record<string, string[]> {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of issues) {
    const field = issue.path.map(String).join(".");
    (fieldErrors[field] ??= []).push(issue.message);
  }
  return fieldErrors;
}
