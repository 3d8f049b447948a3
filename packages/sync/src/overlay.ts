/**
 * The pending layer of the view: the rows that queued writes change, by table and id, on top of
 * the synced rows. Only touched rows live here (never a copy of a table), so applying a write
 * costs what its reducer costs, whatever the size of the tables.
 */
import type { RowChange, RowsView } from "@repo/mutations";
import type { TableName } from "@repo/schema";

import type { AnyRow } from "./types";

/** Marks a row a pending write deletes (a hole over the synced row). */
export const DELETED = Symbol("deleted");
export type Slot = AnyRow | typeof DELETED;

/** Read access to synced rows across every shape of the client. */
export interface SyncedRows {
  get(table: TableName, id: string): AnyRow | undefined;
  list(table: TableName): Iterable<AnyRow>;
}

export class Overlay {
  private readonly tables = new Map<TableName, Map<string, Slot>>();

  slot(table: TableName, id: string): Slot | undefined {
    return this.tables.get(table)?.get(id);
  }

  rows(table: TableName): ReadonlyMap<string, Slot> {
    return this.tables.get(table) ?? EMPTY;
  }

  get isEmpty(): boolean {
    return this.tables.size === 0;
  }

  /** Every (table, id) it holds. */
  *keys(): Iterable<[TableName, string]> {
    for (const [table, rows] of this.tables)
      for (const id of rows.keys()) yield [table, id];
  }

  /**
   * Applies one write's predicted changes. An update of a row the view lacks changes nothing
   * (reducers never guess; the synced row fills in); an insert of a row that exists replaces it
   * (the synced copy of this very write may have arrived before the api's answer).
   */
  apply(view: RowsView, changes: readonly RowChange[]): void {
    for (const change of changes) {
      switch (change.type) {
        case "insert":
          this.set(change.table, change.row.id, change.row);
          break;
        case "update": {
          const current: AnyRow | undefined = view.get(change.table, change.id);
          if (current)
            this.set(change.table, change.id, {
              ...current,
              ...change.changes,
            });
          break;
        }
        case "delete":
          this.set(change.table, change.id, DELETED);
          break;
      }
    }
  }

  private set(table: TableName, id: string, slot: Slot): void {
    let rows = this.tables.get(table);
    if (!rows) this.tables.set(table, (rows = new Map<string, Slot>()));
    rows.set(id, slot);
  }
}

const EMPTY: ReadonlyMap<string, Slot> = new Map();

/** What reducers read: the overlay where it has the row, else the synced rows. */
export function overlayView(overlay: Overlay, synced: SyncedRows): RowsView {
  return {
    get: (table, id) => {
      const slot = overlay.slot(table, id);
      if (slot === DELETED) return undefined;
      return (slot ?? synced.get(table, id)) as never;
    },
    list: (table) => listRows(overlay, synced, table) as never,
  };
}

function* listRows(
  overlay: Overlay,
  synced: SyncedRows,
  table: TableName,
): Iterable<AnyRow> {
  const pending = overlay.rows(table);
  for (const slot of pending.values()) if (slot !== DELETED) yield slot;
  for (const row of synced.list(table)) if (!pending.has(row.id)) yield row;
}
