/**
 * One shape's synced rows, fed by the official `ShapeStream`. Changes are held until the batch's
 * `up-to-date` and then applied together, as `@electric-sql/client`'s `Shape` does: a
 * transaction split across responses is never half visible, and the view changes once per batch.
 * After a `must-refetch` (409) the old rows stay visible until the new snapshot is up to date,
 * then the two are swapped in one step (no empty flash).
 */
import type {
  ChangeMessage,
  Message,
  PostgresSnapshot,
  Row,
} from "@electric-sql/client";
import { isChangeMessage, isControlMessage } from "@electric-sql/client";

import type { TableName } from "@repo/schema";

import type { AnyRow, Txid } from "./types";

/** What one up-to-date batch changed. */
export interface AppliedBatch {
  /** Row ids whose synced value changed (or may have: a refetch swap lists every id). */
  dirty: Set<string>;
  /** Txids of the changes applied. */
  txids: Txid[];
  /** `snapshot-end` positions of the batch: transactions visible in them are in the rows. */
  snapshots: PostgresSnapshot[];
}

const RECENT_TXIDS = 10_000;

export class SyncedRowsOfShape {
  readonly rows = new Map<string, AnyRow>();
  isUpToDate = false;
  /** Latest `snapshot-end` seen (a write visible in it is part of the rows). */
  snapshot: PostgresSnapshot | undefined;
  private readonly recentTxids = new Set<Txid>();
  private buffer: ChangeMessage<Row<unknown>>[] = [];
  private batchSnapshots: PostgresSnapshot[] = [];
  /** Rows of the snapshot being refetched after a 409, swapped in at its up-to-date. */
  private refetching: Map<string, AnyRow> | undefined;

  constructor(readonly table: TableName) {}

  /** Whether this shape's stream delivered `txid` lately (before the api's answer, say). */
  hasSeen(txid: Txid): boolean {
    return this.recentTxids.has(txid);
  }

  latestTxids(count: number): Txid[] {
    return [...this.recentTxids].slice(-count);
  }

  /** Takes one callback's messages; returns what changed once an `up-to-date` ends a batch. */
  receive(
    messages: readonly Message<Row<unknown>>[],
  ): AppliedBatch | undefined {
    let applied: AppliedBatch | undefined;
    for (const message of messages) {
      if (isChangeMessage(message)) {
        this.buffer.push(message);
        continue;
      }
      if (!isControlMessage(message)) continue; // move-in/out events: not used by our shapes
      const { headers } = message;
      switch (headers.control) {
        case "must-refetch":
          this.buffer = [];
          this.batchSnapshots = [];
          this.refetching = new Map();
          this.isUpToDate = false;
          break;
        case "snapshot-end":
          this.batchSnapshots.push({
            xmin: headers.xmin,
            xmax: headers.xmax,
            xip_list: headers.xip_list,
          });
          break;
        case "up-to-date":
          applied = merge(applied, this.flush());
          break;
        default:
          break;
      }
    }
    return applied;
  }

  private flush(): AppliedBatch {
    const target = this.refetching ?? this.rows;
    const dirty = new Set<string>();
    const txids: Txid[] = [];
    for (const message of this.buffer) {
      const id = applyChange(target, message);
      if (id !== undefined) dirty.add(id);
      for (const txid of message.headers.txids ?? []) {
        txids.push(txid);
        this.remember(txid);
      }
    }
    this.buffer = [];
    if (this.refetching) {
      for (const id of this.rows.keys()) dirty.add(id);
      for (const id of this.refetching.keys()) dirty.add(id);
      this.rows.clear();
      for (const [id, row] of this.refetching) this.rows.set(id, row);
      this.refetching = undefined;
    }
    const snapshots = this.batchSnapshots;
    this.batchSnapshots = [];
    if (snapshots.length > 0) this.snapshot = snapshots[snapshots.length - 1];
    this.isUpToDate = true;
    return { dirty, txids, snapshots };
  }

  private remember(txid: Txid): void {
    this.recentTxids.delete(txid);
    this.recentTxids.add(txid);
    if (this.recentTxids.size > RECENT_TXIDS)
      for (const oldest of this.recentTxids) {
        this.recentTxids.delete(oldest);
        break;
      }
  }
}

/** Electric sends the primary key in every value; updates carry only changed columns. */
function applyChange(
  rows: Map<string, AnyRow>,
  message: ChangeMessage<Row<unknown>>,
): string | undefined {
  const id = message.value.id;
  if (typeof id !== "string") return undefined;
  switch (message.headers.operation) {
    case "insert":
      rows.set(id, message.value as unknown as AnyRow);
      break;
    case "update":
      rows.set(id, { ...rows.get(id), ...message.value } as unknown as AnyRow);
      break;
    case "delete":
      rows.delete(id);
      break;
  }
  return id;
}

function merge(
  first: AppliedBatch | undefined,
  second: AppliedBatch,
): AppliedBatch {
  if (!first) return second;
  for (const id of second.dirty) first.dirty.add(id);
  first.txids.push(...second.txids);
  first.snapshots.push(...second.snapshots);
  return first;
}
