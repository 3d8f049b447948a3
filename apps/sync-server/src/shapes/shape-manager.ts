/**
 * The set of live shapes: finds or creates the shape for a definition, gives each a fresh
 * handle, routes replicated transactions to the shapes of the tables they touch, resets shapes
 * on TRUNCATE and schema changes, and drops shapes nobody has read for a while.
 */
import { createHash } from "node:crypto";
import type pg from "pg";

import type { Logger } from "../logger";
import type { RelationInfo, Transaction } from "../replication/transaction";
import type { ShapeDefinition } from "./definition";
import type { ShapeStorage } from "./shape-storage";
import type { ColumnInfo, TableInfo } from "./table-info";
import type { CompiledWhere } from "./where";
import { errorMessage } from "../error-text";
import { InvalidRequestError, UnavailableError } from "../protocol/errors";
import { ReplicationSetupError } from "../replication/replication-stream";
import { definitionKey } from "./definition";
import { Shape } from "./shape";
import { MemoryShapeStorage } from "./shape-storage";
import { takeSnapshot } from "./snapshot";
import { parsePgSnapshot } from "./snapshot-visibility";
import { loadTableInfo } from "./table-info";
import { compileWhere, WhereClauseError, WhereParamsError } from "./where";

export interface ShapeManagerOptions {
  pool: pg.Pool;
  logger: Logger;
  /** Adds the table to the publication (and sets REPLICA IDENTITY FULL) before snapshotting. */
  ensurePublished: (table: TableInfo) => Promise<void>;
  storage?: ShapeStorage;
  /** Bytes of JSON per snapshot chunk (`ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD`). */
  chunkBytes: number;
}

export class ShapeManager {
  private readonly byDefinition = new Map<string, Shape>();
  private readonly byHandle = new Map<string, Shape>();
  private readonly byRelation = new Map<number, Set<Shape>>();
  private readonly creating = new Map<string, Promise<Shape>>();
  private handleCounter = 0;
  private readonly storage: ShapeStorage;

  constructor(private readonly options: ShapeManagerOptions) {
    this.storage = options.storage ?? new MemoryShapeStorage();
  }

  /**
   * Reopens shapes stored by a previous run. A shape whose table changed meanwhile (or is gone)
   * is dropped, so its clients get 409; the others resume where their clients left off.
   *
   * `replayFrom` is where the slot resumes: it resends every transaction committed at or after
   * it. Their entries are cut from each log and rebuilt by the replay: after a crash the file
   * may hold any prefix of its unsynced tail, down to part of a transaction (a page boundary
   * inside it), and a shape skips a transaction whose commit position it already holds, so a
   * partly kept one would stay partial. Entries before `replayFrom` were synced before the
   * slot was confirmed past them; the rebuilt ones get the same offsets and bytes.
   *
   * The logs are complete only up to the last position noted before a confirmation
   * (`syncAll`): a slot resuming past it (recreated or advanced while the server was down)
   * cannot replay what they lack, so then every stored shape is dropped (409, clients refetch).
   */
  async restore(replayFrom: bigint): Promise<number> {
    const stored = this.storage.restore();
    const complete = this.storage.recordedPosition();
    this.storage.recordPosition(replayFrom);
    if (
      stored.length > 0 &&
      (complete === undefined || replayFrom > complete)
    ) {
      this.options.logger.warn(
        "stored shapes discarded: the replication slot resumes past what their logs hold",
        {
          count: stored.length,
          slotPosition: replayFrom.toString(),
          logsComplete: complete?.toString() ?? "unknown",
        },
      );
      for (const { meta } of stored) this.storage.remove(meta.handle);
      return 0;
    }
    let restored = 0;
    for (const { meta, log } of stored) {
      try {
        const dropped = log.discardFrom(replayFrom);
        if (dropped > 0)
          this.options.logger.info("unconfirmed log entries cut for replay", {
            handle: meta.handle,
            entries: dropped,
          });
        const table = await loadTableInfo(
          this.options.pool,
          meta.definition.table,
        );
        if (tableSignature(table) !== meta.tableSignature || !meta.snapshot)
          throw new Error("table changed while the server was stopped");
        const selected = selectColumns(table, meta.definition.columns);
        const where = meta.definition.where
          ? compileShapeWhere(
              meta.definition.where,
              table.columns,
              meta.definition.params,
            )
          : undefined;
        await this.options.ensurePublished(table);
        const shape = new Shape({
          handle: meta.handle,
          definition: meta.definition,
          table,
          selected,
          where,
          log,
        });
        shape.restoreReady(
          parsePgSnapshot(
            `${meta.snapshot.xmin}:${meta.snapshot.xmax}:${meta.snapshot.xip_list.join(",")}`,
          ),
        );
        this.register(definitionKey(meta.definition), shape);
        restored++;
      } catch (error) {
        this.options.logger.info("stored shape dropped", {
          handle: meta.handle,
          reason: errorMessage(error),
        });
        this.storage.remove(meta.handle);
      }
    }
    return restored;
  }

  /** Closes every log (server shutdown); stored shapes stay on disk for the next start. */
  closeAll(): void {
    for (const shape of this.byHandle.values()) shape.log.close();
  }

  /**
   * Makes every shape log durable and notes that they are complete up to `confirming`, the
   * position the replication slot is about to be confirmed to.
   */
  syncAll(confirming: bigint): void {
    for (const shape of this.byHandle.values()) shape.log.sync();
    this.storage.recordPosition(confirming);
  }

  /**
   * Drops every shape: the replication slot cannot replay transactions their logs may lack
   * (lost, recreated, moved ahead). Clients get 409 and refetch, as with Electric.
   */
  rotateAll(reason: string): void {
    for (const shape of [...this.byHandle.values()]) this.remove(shape, reason);
  }

  get shapeCount(): number {
    return this.byHandle.size;
  }

  getByHandle(handle: string): Shape | undefined {
    return this.byHandle.get(handle);
  }

  /** The current shape for `definition`, created (and snapshotted) if there is none. */
  async getOrCreate(definition: ShapeDefinition): Promise<Shape> {
    const key = definitionKey(definition);
    const existing = this.byDefinition.get(key);
    if (existing && existing.state !== "invalid") return existing;
    const inFlight = this.creating.get(key);
    if (inFlight) return inFlight;
    const creation = this.create(key, definition).finally(() =>
      this.creating.delete(key),
    );
    this.creating.set(key, creation);
    return creation;
  }

  /** The current shape for `definition` if one exists (no creation). */
  find(definition: ShapeDefinition): Shape | undefined {
    const shape = this.byDefinition.get(definitionKey(definition));
    return shape?.state === "invalid" ? undefined : shape;
  }

  private async create(
    key: string,
    definition: ShapeDefinition,
  ): Promise<Shape> {
    const table = await loadTableInfo(this.options.pool, definition.table);
    const selected = selectColumns(table, definition.columns);
    const where = definition.where
      ? compileShapeWhere(definition.where, table.columns, definition.params)
      : undefined;
    if (!definition.where && Object.keys(definition.params).length > 0)
      throw InvalidRequestError.of(
        "params",
        "params were given but there is no where clause",
      );
    try {
      await this.options.ensurePublished(table);
    } catch (error) {
      // Typically REPLICA IDENTITY FULL waiting behind an open transaction: say so, and let
      // the client retry (503) instead of queueing behind the lock.
      if (error instanceof ReplicationSetupError)
        throw new UnavailableError(error.message, 5, { cause: error });
      throw error;
    }
    const handle = this.newHandle(key);
    const shape = new Shape({
      handle,
      definition,
      table,
      selected,
      where,
      log: this.storage.createLog(handle),
    });
    this.storage.save({
      version: 2,
      handle,
      definition,
      tableSignature: tableSignature(table),
      state: "snapshotting",
    });
    // Registered before the snapshot starts, so every transaction committing from now on is
    // either visible in the snapshot or buffered by the shape: none is lost.
    this.register(key, shape);
    this.options.logger.info("shape created", {
      handle,
      table: `${table.schema}.${table.name}`,
      where: definition.where,
    });
    void takeSnapshot(this.options.pool, shape, this.options.chunkBytes).then(
      () => {
        if (shape.state === "invalid") {
          this.remove(shape, shape.invalidReason ?? "snapshot failed");
          return;
        }
        shape.log.sync();
        this.storage.save({
          version: 2,
          handle,
          definition,
          tableSignature: tableSignature(table),
          state: "ready",
          snapshot: shape.snapshotInfo,
        });
        this.options.logger.debug("snapshot done", {
          handle,
          rows: shape.log.size - 1,
        });
      },
    );
    return shape;
  }

  private register(key: string, shape: Shape): void {
    this.byDefinition.set(key, shape);
    this.byHandle.set(shape.handle, shape);
    let shapes = this.byRelation.get(shape.table.oid);
    if (!shapes) {
      shapes = new Set();
      this.byRelation.set(shape.table.oid, shapes);
    }
    shapes.add(shape);
  }

  /** Electric's handle format: `<hash of definition>-<microsecond timestamp>`, never reused. */
  private newHandle(key: string): string {
    const hash = BigInt(
      `0x${createHash("sha256").update(key).digest("hex").slice(0, 12)}`,
    );
    const micros =
      BigInt(Date.now()) * 1000n + BigInt(this.handleCounter++ % 1000);
    return `${hash}-${micros}`;
  }

  /** Routes one committed transaction to the shapes of the tables it touched. */
  handleTransaction(transaction: Transaction): void {
    for (const oid of transaction.truncated) {
      for (const shape of [...(this.byRelation.get(oid) ?? [])])
        this.remove(shape, "table truncated");
    }
    const touched = new Set<number>();
    for (const change of transaction.changes) touched.add(change.relationOid);
    for (const oid of touched) {
      for (const shape of [...(this.byRelation.get(oid) ?? [])]) {
        try {
          shape.handleTransaction(transaction);
        } catch (error) {
          // E.g. a WHERE clause that divides by zero on this row: this shape can't follow the
          // table any more; its clients refetch (and get the error from the snapshot query).
          // The other shapes are unaffected.
          this.remove(
            shape,
            `could not apply a change: ${errorMessage(error)}`,
          );
        }
      }
    }
  }

  /**
   * pgoutput re-sends a relation's description after its definition changed; shapes built on
   * the old columns can't be kept consistent, so they are reset (clients get 409).
   */
  handleRelation(relation: RelationInfo): void {
    const signature = relation.columns
      .map((column) => `${column.name}:${column.typeOid}:${column.typeMod}`)
      .join(",");
    for (const shape of [...(this.byRelation.get(relation.oid) ?? [])]) {
      // The shape's columns as read from the catalog when it was created.
      const shapeSignature = shape.table.columns
        .map((column) => `${column.name}:${column.typeOid}:${column.typmod}`)
        .join(",");
      const renamed =
        relation.schema !== shape.table.schema ||
        relation.name !== shape.table.name;
      if (signature !== shapeSignature || renamed)
        this.remove(shape, "table schema changed");
    }
  }

  /** Removes a shape; its handle stops being served and waiters get 409. */
  remove(shape: Shape, reason: string): void {
    const key = definitionKey(shape.definition);
    if (this.byDefinition.get(key) === shape) this.byDefinition.delete(key);
    this.byHandle.delete(shape.handle);
    this.byRelation.get(shape.table.oid)?.delete(shape);
    if (shape.state !== "invalid")
      this.options.logger.info("shape removed", {
        handle: shape.handle,
        reason,
      });
    shape.invalidate(reason);
    this.storage.remove(shape.handle);
  }

  /** Table oids that have shapes (to check for dropped tables). */
  relationOids(): number[] {
    return [...this.byRelation.entries()]
      .filter(([, shapes]) => shapes.size > 0)
      .map(([oid]) => oid);
  }

  shapesOfRelation(oid: number): Shape[] {
    return [...(this.byRelation.get(oid) ?? [])];
  }

  /** Drops shapes without listeners that nobody read for `idleMs`. */
  cleanup(idleMs: number): number {
    const now = Date.now();
    let removed = 0;
    for (const shape of [...this.byHandle.values()]) {
      if (shape.listenerCount === 0 && now - shape.lastUsedAt > idleMs) {
        this.remove(shape, "unused");
        removed++;
      }
    }
    return removed;
  }

  allShapes(): Shape[] {
    return [...this.byHandle.values()];
  }
}

function selectColumns(
  table: TableInfo,
  requested: readonly string[] | undefined,
): ColumnInfo[] {
  if (!requested) return table.columns;
  if (requested.length === 0)
    throw InvalidRequestError.of(
      "columns",
      "The list of columns must not be empty",
    );
  const byName = new Map(table.columns.map((column) => [column.name, column]));
  const unknown = requested.filter((name) => !byName.has(name));
  if (unknown.length > 0)
    throw InvalidRequestError.of(
      "columns",
      `The following columns are not found on the table: ${unknown.join(", ")}`,
    );
  const missingPk = table.primaryKey.filter(
    (name) => !requested.includes(name),
  );
  if (missingPk.length > 0)
    throw InvalidRequestError.of(
      "columns",
      `The list of columns must include all primary key columns, missing: ${missingPk.join(", ")}`,
    );
  const wanted = new Set(requested);
  return table.columns.filter((column) => wanted.has(column.name));
}

function compileShapeWhere(
  where: string,
  columns: readonly ColumnInfo[],
  params: Readonly<Record<string, string>>,
): CompiledWhere {
  try {
    return compileWhere(where, columns, params);
  } catch (error) {
    if (error instanceof WhereClauseError)
      throw InvalidRequestError.of("where", error.message, error);
    if (error instanceof WhereParamsError)
      throw InvalidRequestError.of("params", error.message, error);
    throw error;
  }
}

/** What a stored shape depends on; any difference means its log no longer fits the table. */
function tableSignature(table: TableInfo): string {
  return JSON.stringify([
    table.oid,
    table.columns.map((column) => [
      column.name,
      column.type,
      column.dims,
      column.pkIndex ?? null,
    ]),
  ]);
}
