import type { RowOf, TableName } from "@repo/schema";
import { TABLE_NAMES } from "@repo/schema";

import type { RowChange, RowsView } from "./define";

/** Rows by table and id: the smallest store reducers can read and changes can be applied to. */
export type RowTables = { [TTable in TableName]: Map<string, RowOf<TTable>> };

export function emptyRowTables(): RowTables {
  return Object.fromEntries(
    TABLE_NAMES.map((table) => [table, new Map()]),
  ) as unknown as RowTables;
}

/** A `RowsView` over `RowTables`. */
export function viewOf(tables: RowTables): RowsView {
  return {
    get: (table, id) => tables[table].get(id),
    list: (table) => tables[table].values(),
  };
}

/**
 * Applies changes to a copy of `tables` (the input is left untouched). An update of a row that
 * is absent, or an insert of one that exists, means client and change disagree: it throws
 * rather than invent a row.
 */
export function applyRowChanges(
  tables: RowTables,
  changes: readonly RowChange[],
): RowTables {
  const next = Object.fromEntries(
    TABLE_NAMES.map((table) => [
      table,
      new Map<string, object>(tables[table] as Map<string, object>),
    ]),
  ) as unknown as RowTables;
  for (const change of changes) {
    const rows = next[change.table] as Map<string, object>;
    switch (change.type) {
      case "insert":
        if (rows.has(change.row.id))
          throw new RowChangeError(change, "row already exists");
        rows.set(change.row.id, change.row);
        break;
      case "update": {
        const row = rows.get(change.id);
        if (!row) throw new RowChangeError(change, "row does not exist");
        rows.set(change.id, { ...row, ...change.changes });
        break;
      }
      case "delete":
        if (!rows.delete(change.id))
          throw new RowChangeError(change, "row does not exist");
        break;
    }
  }
  return next;
}

export class RowChangeError extends Error {
  constructor(
    readonly change: RowChange,
    reason: string,
  ) {
    const id = change.type === "insert" ? change.row.id : change.id;
    super(`cannot ${change.type} ${change.table} ${id}: ${reason}`);
    this.name = "RowChangeError";
  }
}
