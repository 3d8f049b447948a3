/**
 * view = synced rows ⊕ overlay. The overlay holds the rows the pending writes change (their
 * reducers run in queue order); each shape's visible rows are recomputed only for the ids that
 * changed, so unchanged rows keep their object identity and a shape publishes at most once per
 * step.
 */
import type { RowChange, RowsView } from "@repo/mutations";
import type { TableName } from "@repo/schema";

import type { PendingWrite } from "./pending-write";
import type { ShapeHandle, ShapeRegistry } from "./shape-registry";
import type { AnyRow } from "./types";
import { DELETED, Overlay, overlayView } from "./overlay";

/** Row ids by table: what a step may have changed. */
export type DirtyRows = Map<TableName, Set<string>>;

/** Rows the pending reducers read, by table; `ALL` when one listed the whole table. */
const ALL = "all";
type ReadSet = Map<TableName, Set<string> | typeof ALL>;

export class OptimisticView {
  private overlay = new Overlay();
  /** What the reducers read at the last rebase, and the queue they ran for. */
  private reads: ReadSet = new Map();
  private rebasedFor: readonly PendingWrite[] = [];

  constructor(
    private readonly shapes: ShapeRegistry,
    private readonly reduce: (
      write: PendingWrite,
      view: RowsView,
    ) => RowChange[],
  ) {}

  /** What reducers read: every shape's synced rows with the pending writes applied. */
  get rows(): RowsView {
    return overlayView(this.overlay, this.shapes.syncedRows);
  }

  isPending(table: TableName, id: string): boolean {
    return this.overlay.slot(table, id) !== undefined;
  }

  /** A write appended to the queue = its reducer applied on top of the current view. */
  append(write: PendingWrite): void {
    this.applyWrite(this.overlay, recording(this.rows, this.reads), write);
    this.rebasedFor = [...this.rebasedFor, write];
    this.publish(idsOf(write.changes));
  }

  /**
   * Re-runs every pending reducer, in order, over the current synced rows, then refreshes the
   * views for the rows that changed: `dirty` (synced changes) plus everything the old or the
   * new overlay holds.
   */
  rebase(pending: readonly PendingWrite[], dirty: DirtyRows = new Map()): void {
    // Same queue, and no synced row a reducer read has changed: the reducers would predict
    // exactly what they did, so only the synced rows need publishing. This keeps a stream of
    // other clients' changes from re-running every pending reducer on each one.
    if (sameWrites(pending, this.rebasedFor) && !touches(dirty, this.reads)) {
      this.publish(dirty);
      return;
    }
    const previous = this.overlay;
    const next = new Overlay();
    const reads: ReadSet = new Map();
    if (pending.length > 0) {
      const view = recording(overlayView(next, this.shapes.syncedRows), reads);
      for (const write of pending) this.applyWrite(next, view, write);
    }
    this.overlay = next;
    this.reads = reads;
    this.rebasedFor = [...pending];
    for (const [table, id] of previous.keys()) addId(dirty, table, id);
    for (const [table, id] of next.keys()) addId(dirty, table, id);
    this.publish(dirty);
  }

  /**
   * Runs a write's reducer and applies its changes to `overlay`, noting the shapes that show
   * one of its rows just before or just after: those are the shapes its txid must reach (a
   * delete of a row another pending write inserted touches the shape that showed it, though
   * neither the synced rows nor the resulting view hold it).
   */
  private applyWrite(
    overlay: Overlay,
    view: RowsView,
    write: PendingWrite,
  ): void {
    write.changes = this.reduce(write, view);
    const shownIn = new Set<ShapeHandle>();
    const note = () => {
      for (const change of write.changes)
        for (const shape of this.shapes.of(change.table))
          if (this.visibleIn(shape, rowIdOf(change), overlay))
            shownIn.add(shape);
    };
    note();
    overlay.apply(view, write.changes);
    note();
    write.shownIn = shownIn;
  }

  /** Recomputes the visible value of the given rows in every shape of their table. */
  /** Ids of the rows of `table` that pending writes change. */
  *pendingIds(table: TableName): Iterable<string> {
    for (const [rowTable, id] of this.overlay.keys())
      if (rowTable === table) yield id;
  }

  publish(dirty: DirtyRows): void {
    for (const [table, ids] of dirty)
      for (const shape of this.shapes.of(table)) {
        let changed = shape.snapshot.isUpToDate !== shape.synced.isUpToDate;
        for (const id of ids) {
          const value = this.visibleIn(shape, id);
          if (value === shape.visible.get(id)) continue;
          if (value) shape.visible.set(id, value);
          else shape.visible.delete(id);
          changed = true;
        }
        if (changed) shape.publish();
      }
  }

  private visibleIn(
    shape: ShapeHandle,
    id: string,
    overlay: Overlay = this.overlay,
  ): AnyRow | undefined {
    const slot = overlay.slot(shape.table, id);
    if (slot === undefined) return shape.synced.rows.get(id);
    if (slot === DELETED) return undefined;
    const { matches, where } = shape.definition;
    if (matches) return matches(slot) ? slot : undefined;
    if (shape.synced.rows.has(id)) return slot;
    // A pending row new to the client joins shapes that take every row of the table.
    return where === undefined && !this.shapes.syncedRows.get(shape.table, id)
      ? slot
      : undefined;
  }
}

/** A view that notes every row (or whole table) read through it. */
function recording(view: RowsView, reads: ReadSet): RowsView {
  return {
    get: (table, id) => {
      const ids = reads.get(table);
      if (ids === undefined) reads.set(table, new Set([id]));
      else if (ids !== ALL) ids.add(id);
      return view.get(table, id);
    },
    list: (table) => {
      reads.set(table, ALL);
      return view.list(table);
    },
  };
}

function sameWrites(
  a: readonly PendingWrite[],
  b: readonly PendingWrite[],
): boolean {
  return a.length === b.length && a.every((write, index) => write === b[index]);
}

function touches(dirty: DirtyRows, reads: ReadSet): boolean {
  for (const [table, ids] of dirty) {
    const read = reads.get(table);
    if (read === undefined || ids.size === 0) continue;
    if (read === ALL) return true;
    for (const id of ids) if (read.has(id)) return true;
  }
  return false;
}

function idsOf(changes: readonly RowChange[]): DirtyRows {
  const dirty: DirtyRows = new Map();
  for (const change of changes) addId(dirty, change.table, rowIdOf(change));
  return dirty;
}

export function rowIdOf(change: RowChange): string {
  return change.type === "insert" ? change.row.id : change.id;
}

export function addId(
  dirty: DirtyRows,
  table: TableName,
  id: string,
): DirtyRows {
  let ids = dirty.get(table);
  if (!ids) dirty.set(table, (ids = new Set()));
  ids.add(id);
  return dirty;
}
