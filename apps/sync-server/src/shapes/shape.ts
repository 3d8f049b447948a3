/**
 * One shape: its definition, its log, and the rules that turn replicated row changes into
 * shape log entries (Electric `shapes/shape.ex convert_change`, `log_items.ex`):
 *
 * - insert → insert if the new row matches the WHERE;
 * - delete → delete if the old row matched (PK-only value, or the full old row in replica=full);
 * - update → update (PK + changed columns, or full row + old_value in replica=full) when old and
 *   new rows both match; insert when only the new one does (move-in); delete when only the old
 *   one does (move-out); dropped when no selected column changed;
 * - an update that changes the primary key becomes delete(old key) + insert(new key).
 *
 * Transactions that arrive while the initial snapshot is being taken are buffered, then
 * filtered by the snapshot's visibility so none is applied twice or lost.
 */
import type { SnapshotInfo, WireChange, WireRow } from "../protocol/messages";
import type { LogOffset } from "../protocol/offset";
import type {
  RowChange,
  Transaction,
  TupleText,
} from "../replication/transaction";
import type { ShapeDefinition } from "./definition";
import type { LogEntry } from "./shape-log";
import type { PgSnapshot } from "./snapshot-visibility";
import type { ColumnInfo, TableInfo } from "./table-info";
import type { CompiledWhere } from "./where";
import { snapshotEndMessage } from "../protocol/messages";
import { SNAPSHOT_END } from "../protocol/offset";
import { buildKey, relationPrefix } from "./key";
import { ShapeLog } from "./shape-log";
import { isVisibleInSnapshot, toXid8 } from "./snapshot-visibility";
import { electricSchema } from "./table-info";

export type ShapeState = "snapshotting" | "ready" | "invalid";

export interface ShapeParts {
  handle: string;
  definition: ShapeDefinition;
  table: TableInfo;
  selected: readonly ColumnInfo[];
  where: CompiledWhere | undefined;
  log?: ShapeLog;
}

export class Shape {
  readonly handle: string;
  readonly definition: ShapeDefinition;
  readonly table: TableInfo;
  readonly selected: readonly ColumnInfo[];
  readonly where: CompiledWhere | undefined;
  readonly log: ShapeLog;
  readonly schemaHeader: string;
  readonly relation: [string, string];
  state: ShapeState = "snapshotting";
  lastUsedAt = Date.now();
  invalidReason: string | undefined;

  private readonly keyPrefix: string;
  private readonly selectedNames: readonly string[];
  private readonly pkNames: readonly string[];
  private readonly pending: Transaction[] = [];
  private snapshot: PgSnapshot | undefined;
  private filtering = true;
  private readonly listeners = new Set<() => void>();
  /** The snapshot chunk being filled, and its bytes so far. */
  private snapshotChunk = 0;
  private snapshotChunkBytes = 0;
  private snapshotFragments: { columns: string[]; headers: string } | undefined;
  private readySettled = false;
  private resolveReady!: () => void;
  private rejectReady!: (error: Error) => void;
  /** Settles when the initial snapshot is in the log (or failed). */
  readonly ready: Promise<void>;

  constructor(parts: ShapeParts) {
    const { handle, definition, table, selected, where } = parts;
    this.handle = handle;
    this.definition = definition;
    this.table = table;
    this.selected = selected;
    this.where = where;
    this.log = parts.log ?? new ShapeLog();
    this.schemaHeader = electricSchema(selected);
    this.relation = [table.schema, table.name];
    this.keyPrefix = relationPrefix(table.schema, table.name);
    this.selectedNames = selected.map((column) => column.name);
    this.pkNames = table.primaryKey;
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // A failed snapshot is reported to whoever awaits `ready`; don't crash on no listener.
    this.ready.catch(() => undefined);
  }

  /** Column list for the snapshot query, in selected order. */
  get selectedColumnNames(): readonly string[] {
    return this.selectedNames;
  }

  /**
   * Appends a batch of snapshot rows (values in `selectedColumnNames` order). The JSON is
   * assembled from pre-encoded fragments: the initial sync of large tables is dominated by it.
   * Rows are numbered by chunk, as Electric does (`querying.ex` `stream_initial_data`): a chunk
   * closes with the row that brings it to `chunkBytes` (counting a separator per row).
   */
  appendSnapshotRows(
    rows: readonly (readonly (string | null)[])[],
    chunkBytes: number,
  ): void {
    const names = this.selectedNames;
    const fragments = (this.snapshotFragments ??= {
      columns: names.map(
        (name, index) => `${index === 0 ? "" : ","}${JSON.stringify(name)}:`,
      ),
      headers: JSON.stringify({ operation: "insert", relation: this.relation }),
    });
    const entries: LogEntry[] = [];
    const row: WireRow = {};
    for (const values of rows) {
      let value = "";
      for (let index = 0; index < names.length; index++) {
        const item = values[index] ?? null;
        row[names[index] ?? ""] = item;
        value += `${fragments.columns[index] ?? ""}${item === null ? "null" : JSON.stringify(item)}`;
      }
      const key = buildKey(this.keyPrefix, this.pkNames, row);
      const json = `{"key":${JSON.stringify(key)},"value":{${value}},"headers":${fragments.headers}}`;
      entries.push({ offset: { tx: 0n, op: this.snapshotChunk }, json });
      this.snapshotChunkBytes += json.length + 1;
      if (this.snapshotChunkBytes >= chunkBytes) {
        this.snapshotChunk++;
        this.snapshotChunkBytes = 0;
      }
    }
    this.log.append(entries);
    // Initial-sync readers are served while the snapshot runs (see `waitForEntries`).
    this.notify();
  }

  /**
   * Resolves once the log has anything after `after`, or the shape is no longer snapshotting
   * (ready, or invalid: the caller checks which). Lets a non-live read of a shape whose
   * snapshot is still running start with the chunk being written, so the client parses the
   * first chunks while the rest is fetched, instead of waiting for the whole snapshot.
   */
  waitForEntries(after: LogOffset): Promise<void> {
    const enough = () =>
      this.state !== "snapshotting" || this.log.hasAnythingAfter(after);
    if (enough()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const unsubscribe = this.subscribe(() => {
        if (enough()) {
          unsubscribe();
          resolve();
        }
      });
    });
  }

  /** Ends the initial snapshot: `snapshot-end`, then the transactions buffered meanwhile. */
  finishSnapshot(snapshot: PgSnapshot, info: SnapshotInfo): void {
    if (this.state !== "snapshotting") return;
    this.snapshot = snapshot;
    this.log.append([{ offset: SNAPSHOT_END, json: snapshotEndMessage(info) }]);
    this.state = "ready";
    const buffered = this.pending.splice(0);
    for (const transaction of buffered) this.applyTransaction(transaction);
    this.settleReady();
    this.notify();
  }

  /** The snapshot this shape's log starts from (for persistence). */
  get snapshotInfo(): SnapshotInfo | undefined {
    const snapshot = this.snapshot;
    if (!snapshot) return undefined;
    return {
      xmin: snapshot.xmin.toString(),
      xmax: snapshot.xmax.toString(),
      xip_list: [...snapshot.xip].map(String),
    };
  }

  /** Reopens a shape whose log (snapshot included) was stored by a previous run. */
  restoreReady(snapshot: PgSnapshot): void {
    this.snapshot = snapshot;
    this.state = "ready";
    this.settleReady();
  }

  /** Why the snapshot failed, if it did (the request that waited for it reports this). */
  snapshotError: Error | undefined;

  failSnapshot(error: Error): void {
    this.snapshotError = error;
    this.invalidate(`snapshot failed: ${error.message}`);
    if (!this.readySettled) {
      this.readySettled = true;
      this.rejectReady(error);
    }
  }

  /** Feeds one committed transaction that touched this shape's table. */
  handleTransaction(transaction: Transaction): void {
    if (this.state === "invalid") return;
    if (this.state === "snapshotting") {
      this.pending.push(transaction);
      return;
    }
    if (this.applyTransaction(transaction)) this.notify();
  }

  /** Returns true when entries were appended. */
  private applyTransaction(transaction: Transaction): boolean {
    const snapshot = this.snapshot;
    if (snapshot && this.filtering) {
      const xid8 = toXid8(transaction.xid, snapshot.xmax);
      // Once a transaction that started after the snapshot is seen, none later can be visible.
      if (xid8 >= snapshot.xmax) this.filtering = false;
      else if (isVisibleInSnapshot(xid8, snapshot)) return false;
    }
    // A transaction whose commit position is not after our log end was already applied (e.g.
    // replayed after a replication reconnect).
    if (transaction.lsn <= this.log.lastOffset.tx) return false;
    const messages: { offset: LogOffset; message: WireChange }[] = [];
    transaction.changes.forEach((change, index) => {
      if (change.relationOid !== this.table.oid) return;
      for (const converted of this.convert(change, index * 2, transaction))
        messages.push(converted);
    });
    if (messages.length === 0) return false;
    const last = messages[messages.length - 1];
    if (last) last.message.headers.last = true;
    this.log.append(
      messages.map(({ offset, message }) => ({
        offset,
        json: JSON.stringify(message),
      })),
    );
    return true;
  }

  private convert(
    change: RowChange,
    op: number,
    transaction: Transaction,
  ): { offset: LogOffset; message: WireChange }[] {
    const headers = (
      operation: WireChange["headers"]["operation"],
      position: number,
    ) => ({
      operation,
      relation: this.relation,
      txids: [transaction.xid],
      lsn: transaction.lsn.toString(),
      op_position: position,
    });
    const at = (position: number): LogOffset => ({
      tx: transaction.lsn,
      op: position,
    });
    const matches = (row: TupleText) => !this.where || this.where.matches(row);
    switch (change.kind) {
      case "insert": {
        if (!matches(change.new)) return [];
        return [
          {
            offset: at(op),
            message: {
              key: this.keyOf(change.new),
              value: this.project(change.new),
              headers: headers("insert", op),
            },
          },
        ];
      }
      case "delete": {
        if (!matches(change.old)) return [];
        return [
          {
            offset: at(op),
            message: {
              key: this.keyOf(change.old),
              value: this.deleteValue(change.old),
              headers: headers("delete", op),
            },
          },
        ];
      }
      case "update": {
        // Without an old tuple (replica identity not FULL) treat the row as unchanged in
        // membership and send it whole.
        const old = change.old ?? change.new;
        const oldMatches = change.old ? matches(old) : matches(change.new);
        const newMatches = matches(change.new);
        if (!oldMatches && !newMatches) return [];
        const oldKey = this.keyOf(old);
        const newKey = this.keyOf(change.new);
        if (oldMatches && !newMatches) {
          return [
            {
              offset: at(op),
              message: {
                key: oldKey,
                value: this.deleteValue(old),
                headers: headers("delete", op),
              },
            },
          ];
        }
        if (!oldMatches && newMatches) {
          return [
            {
              offset: at(op),
              message: {
                key: newKey,
                value: this.project(change.new),
                headers: headers("insert", op),
              },
            },
          ];
        }
        if (oldKey !== newKey) {
          return [
            {
              offset: at(op),
              message: {
                key: oldKey,
                value: this.deleteValue(old),
                headers: { ...headers("delete", op), key_change_to: newKey },
              },
            },
            {
              offset: at(op + 1),
              message: {
                key: newKey,
                value: this.project(change.new),
                headers: {
                  ...headers("insert", op + 1),
                  key_change_from: oldKey,
                },
              },
            },
          ];
        }
        const changed = change.old
          ? this.selectedNames.filter(
              (name) => change.old?.[name] !== change.new[name],
            )
          : [...this.selectedNames];
        if (changed.length === 0) return [];
        const message: WireChange = {
          key: newKey,
          value: {},
          headers: headers("update", op),
        };
        if (this.definition.replica === "full") {
          message.value = this.project(change.new);
          const oldValue: WireRow = {};
          for (const name of changed) oldValue[name] = old[name] ?? null;
          message.old_value = oldValue;
        } else {
          for (const name of this.pkNames)
            message.value[name] = change.new[name] ?? null;
          for (const name of changed)
            message.value[name] = change.new[name] ?? null;
        }
        return [{ offset: at(op), message }];
      }
    }
  }

  private keyOf(row: TupleText): string {
    return buildKey(this.keyPrefix, this.pkNames, row);
  }

  private project(row: TupleText): WireRow {
    const value: WireRow = {};
    for (const name of this.selectedNames) value[name] = row[name] ?? null;
    return value;
  }

  private deleteValue(old: TupleText): WireRow {
    if (this.definition.replica === "full") return this.project(old);
    const value: WireRow = {};
    for (const name of this.pkNames) value[name] = old[name] ?? null;
    return value;
  }

  /** Marks the shape unusable (truncate, schema change, deletion); waiters get 409. */
  invalidate(reason: string): void {
    if (this.state === "invalid") return;
    this.state = "invalid";
    this.invalidReason = reason;
    this.pending.length = 0;
    this.settleReady();
    this.notify();
  }

  /** Calls `listener` after new entries are appended or the shape is invalidated. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private settleReady(): void {
    if (this.readySettled) return;
    this.readySettled = true;
    this.resolveReady();
  }
}
