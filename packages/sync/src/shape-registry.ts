/**
 * The shapes a client follows: one official `ShapeStream` per distinct definition, shared by
 * every caller, with its synced rows and the visible rows the client publishes for it. A shape
 * nobody holds lingers a moment before its stream closes, so a component that remounts (React
 * strict mode, navigating back) keeps its stream.
 */
import type {
  Offset,
  Row,
  ShapeStreamInterface,
  ShapeStreamOptions,
} from "@electric-sql/client";
import { ShapeStream, snakeCamelMapper } from "@electric-sql/client";

import type { RowOf, TableName } from "@repo/schema";
import { SHAPE_PARSER } from "@repo/schema";

import type { SyncedRows } from "./overlay";
import type { AppliedBatch } from "./synced-shape";
import type { AnyRow } from "./types";
import { SyncedRowsOfShape } from "./synced-shape";

export interface ShapeDefinition<TTable extends TableName> {
  table: TTable;
  where?: string;
  params?: readonly string[];
  columns?: readonly string[];
  /**
   * Where this shape is read, when an authorising proxy names it instead of the client sending
   * `table`/`where`/`params`/`columns` (e.g. `/api/shapes/issues?project=…`): resolved against
   * the client's `shapeUrl`, and the four are then not sent (the proxy pins them). `table` still
   * tells the client whose rows these are.
   */
  url?: string;
  /**
   * The shape's `where` as a predicate, so optimistic rows join or leave it as the server's
   * rows will. Without it a shape with a `where` shows only its own rows changed (no pending
   * inserts); a shape without `where` shows every pending row of its table.
   */
  matches?: (row: RowOf<TTable>) => boolean;
  /** Rows a server render used, with the handle and offset to resume the stream from. */
  initial?: { handle: string; offset: Offset; rows: readonly RowOf<TTable>[] };
  /**
   * `false`: read up to date once, then stop (no request held open). Each live shape keeps one
   * of a browser's six HTTP/1.1 connections to a server busy; a shape whose set another live
   * shape decides (profiles of a project's members) is read again by changing its definition
   * when that one changes. Writes never wait for their txid on it: it would never come.
   */
  live?: boolean;
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

/** A caller's hold on a shape, shaped for `useSyncExternalStore`. */
export interface ShapeSubscription<TTable extends TableName> {
  getSnapshot(): ShapeSnapshot<TTable>;
  subscribe(listener: () => void): () => void;
  release(): void;
}

export type CreateStream = (
  options: ShapeStreamOptions<unknown>,
) => ShapeStreamInterface<Row<unknown>>;

export interface ShapeRegistryOptions {
  shapeUrl: string;
  shapeParams?: Record<string, string>;
  shapeHeaders?: Record<string, string>;
  createStream?: CreateStream;
  lingerMs?: number;
  /** Row flags the snapshots expose (they belong to the pending queue, not to the shape). */
  isPendingRow: (table: TableName, id: string) => boolean;
  isFailedRow: (table: TableName, id: string) => boolean;
  /** A shape opened (with its `initial` rows, if any): publish what it shows now. */
  onOpened: (shape: ShapeHandle) => void;
  /** A batch up to `up-to-date` went into a shape's synced rows. */
  onBatch: (shape: ShapeHandle, batch: AppliedBatch) => void;
  /** The stream answered (true) or failed for good (false, with the error). */
  onConnection: (connected: boolean, error?: Error) => void;
  /** A shape stopped (its stream closed): writes waiting on it stop waiting. */
  onClosed: (shape: ShapeHandle) => void;
}

export class ShapeHandle {
  readonly synced: SyncedRowsOfShape;
  /** Synced rows with the pending writes applied: what the snapshot shows. */
  readonly visible = new Map<string, AnyRow>();
  readonly listeners = new Set<() => void>();
  references = 0;
  lingering: ReturnType<typeof setTimeout> | undefined;
  snapshot: ShapeSnapshot<TableName>;
  unsubscribe: () => void = () => undefined;

  constructor(
    readonly key: string,
    readonly definition: ShapeDefinition<TableName>,
    private readonly flags: Pick<
      ShapeRegistryOptions,
      "isPendingRow" | "isFailedRow"
    >,
  ) {
    this.synced = new SyncedRowsOfShape(definition.table);
    this.snapshot = this.nextSnapshot(0);
  }

  get table(): TableName {
    return this.definition.table;
  }

  /** Replaces the snapshot (a new object, so React sees the change) and tells the listeners. */
  publish(): void {
    this.snapshot = this.nextSnapshot(this.snapshot.version + 1);
    for (const listener of this.listeners) listener();
  }

  private nextSnapshot(version: number): ShapeSnapshot<TableName> {
    const { flags, table } = this;
    return {
      version,
      rows: this.visible,
      isUpToDate: this.synced.isUpToDate,
      isPending: (id) => flags.isPendingRow(table, id),
      isFailed: (id) => flags.isFailedRow(table, id),
    };
  }
}

export class ShapeRegistry {
  private readonly shapes = new Map<string, ShapeHandle>();
  private readonly byTable = new Map<TableName, Set<ShapeHandle>>();
  private readonly idle = new Map<string, ShapeSnapshot<TableName>>();

  /** Synced rows across shapes: a row in several shapes is one row (the same transaction). */
  readonly syncedRows: SyncedRows = {
    get: (table, id) => {
      for (const shape of this.of(table)) {
        const row = shape.synced.rows.get(id);
        if (row) return row;
      }
      return undefined;
    },
    list: (table) => this.listSynced(table),
  };

  constructor(private readonly options: ShapeRegistryOptions) {}

  of(table: TableName): Iterable<ShapeHandle> {
    return this.byTable.get(table) ?? [];
  }

  get allUpToDate(): boolean {
    for (const shape of this.shapes.values())
      if (!shape.synced.isUpToDate) return false;
    return true;
  }

  acquire<TTable extends TableName>(
    definition: ShapeDefinition<TTable>,
  ): ShapeSubscription<TTable> {
    const key = shapeKey(definition);
    let handle = this.shapes.get(key);
    if (!handle) {
      handle = new ShapeHandle(key, definition, this.options);
      this.open(handle);
    }
    handle.references++;
    clearTimeout(handle.lingering);
    const held = handle;
    let released = false;
    return {
      getSnapshot: () => held.snapshot,
      subscribe: (listener) => {
        held.listeners.add(listener);
        return () => held.listeners.delete(listener);
      },
      release: () => {
        if (released) return;
        released = true;
        if (--held.references > 0) return;
        held.lingering = setTimeout(() => {
          if (held.references === 0 && this.shapes.get(key) === held)
            this.close(held);
        }, this.options.lingerMs ?? 1_000);
      },
    };
  }

  /**
   * The current snapshot of a shape without following it: what a render shows before its
   * subscription starts (and on the server, where nothing is followed). Before the shape is
   * open that is its `initial` rows (from a server render) or nothing; the same object until
   * the shape changes.
   */
  peek<TTable extends TableName>(
    definition: ShapeDefinition<TTable>,
  ): ShapeSnapshot<TTable> {
    const key = shapeKey(definition);
    const open = this.shapes.get(key);
    if (open) return open.snapshot;
    let idle = this.idle.get(key);
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
      this.idle.set(key, idle);
    }
    return idle;
  }

  private open(handle: ShapeHandle): void {
    const { definition } = handle;
    const { options } = this;
    this.shapes.set(handle.key, handle);
    let tableShapes = this.byTable.get(definition.table);
    if (!tableShapes)
      this.byTable.set(definition.table, (tableShapes = new Set()));
    tableShapes.add(handle);
    if (definition.initial)
      for (const row of definition.initial.rows)
        handle.synced.rows.set(row.id, row);
    // Also without initial rows: pending writes (e.g. replayed from the outbox before the
    // page opened the shape) show in it from the start.
    options.onOpened(handle);
    // A ShapeStream keeps requesting until its signal aborts, subscribers or not.
    const aborter = new AbortController();
    const stream = (options.createStream ?? defaultStream)({
      ...streamOptions(options.shapeUrl, definition, {
        params: options.shapeParams,
        headers: options.shapeHeaders,
      }),
      ...(definition.initial && {
        handle: definition.initial.handle,
        offset: definition.initial.offset,
      }),
      signal: aborter.signal,
    });
    const unsubscribe = stream.subscribe(
      (messages) => {
        options.onConnection(true);
        const batch = handle.synced.receive(messages);
        if (batch) options.onBatch(handle, batch);
      },
      (error) => options.onConnection(false, error),
    );
    handle.unsubscribe = () => {
      unsubscribe();
      aborter.abort();
    };
  }

  private close(handle: ShapeHandle): void {
    handle.unsubscribe();
    this.idle.delete(handle.key);
    this.shapes.delete(handle.key);
    this.byTable.get(handle.table)?.delete(handle);
    this.options.onClosed(handle);
  }

  /** Stops every stream (the client is closing). */
  closeAll(): void {
    for (const shape of this.shapes.values()) {
      clearTimeout(shape.lingering);
      shape.unsubscribe();
    }
    this.shapes.clear();
    this.byTable.clear();
  }

  private *listSynced(table: TableName): Iterable<AnyRow> {
    const shapes = [...this.of(table)];
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
}

/**
 * The `ShapeStream` options of a shape: its table, where, params and columns as Electric's
 * parameters (beside the app's own, e.g. a secret), rows typed by `SHAPE_PARSER` in camelCase.
 */
export function streamOptions(
  url: string,
  shape: Omit<ShapeDefinition<TableName>, "initial" | "matches">,
  extra: { params?: Record<string, string>; headers?: Record<string, string> },
): ShapeStreamOptions<unknown> {
  const options = {
    url,
    params: {
      ...extra.params,
      table: shape.table,
      ...(shape.where !== undefined && { where: shape.where }),
      ...(shape.params && { params: [...shape.params] }),
      ...(shape.columns && { columns: [...shape.columns] }),
    },
    ...(extra.headers && { headers: extra.headers }),
    ...(shape.live === false && { subscribe: false }),
    columnMapper: snakeCamelMapper(),
    parser: SHAPE_PARSER,
  } satisfies ShapeStreamOptions<unknown>;
  if (shape.url === undefined) return options;
  // A named shape: its URL says what it is, the proxy pins the definition.
  const {
    table: _t,
    where: _w,
    params: _p,
    columns: _c,
    ...rest
  } = options.params;
  return { ...options, url: new URL(shape.url, url).href, params: rest };
}

function defaultStream(
  options: ShapeStreamOptions<unknown>,
): ShapeStreamInterface<Row<unknown>> {
  return new ShapeStream<Row<unknown>>(options);
}

/**
 * Shapes with the same table, where, params and columns (or url) share one stream; one read
 * once (`live: false`) is another stream than the live one.
 */
export function shapeKey(definition: ShapeDefinition<TableName>): string {
  const { table, where, params, columns, url, live } = definition;
  const key = [table, where ?? null, params ?? [], columns ?? null];
  if (url !== undefined) key.push(url);
  if (live === false) key.push("once");
  return JSON.stringify(key);
}
