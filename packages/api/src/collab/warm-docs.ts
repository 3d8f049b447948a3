import * as Y from "yjs";

import type { CollabFieldKey } from "@repo/schema";

/** A document kept in memory between writes, so a write costs its update, not a state load. */
export interface WarmDoc {
  doc: Y.Doc;
  /**
   * The id of the last log row applied (or the `folded_through` of the state it was built
   * from, if larger). The copy is current while that row still exists, or once a compaction
   * folded exactly through it; anything else (a compaction past it, or the row's transaction
   * rolled back) means: load again.
   */
  upTo: bigint;
}

/**
 * Brings `warm` up to date with `log` (the document's rows from `warm.upTo` on, read under its
 * lock: nothing is appended or folded meanwhile). False when the copy cannot be caught up (a
 * compaction folded past it, or the write that set `upTo` rolled back): load it again.
 */
export function catchUp(
  warm: WarmDoc,
  log: {
    updates: readonly { id: bigint; update: Uint8Array }[];
    foldedThrough: bigint;
  },
): boolean {
  const [first, ...rest] = log.updates;
  const newer =
    first?.id === warm.upTo
      ? rest
      : log.foldedThrough === warm.upTo
        ? log.updates
        : null;
  if (!newer) return false;
  if (newer.length > 0) {
    Y.transact(warm.doc, () => {
      for (const row of newer) Y.applyUpdate(warm.doc, row.update);
    });
    warm.upTo = newer[newer.length - 1]?.id ?? warm.upTo;
  }
  return true;
}

/** Warm documents, least recently used evicted first. One per api runtime (its database). */
export class WarmDocs {
  private readonly docs = new Map<string, WarmDoc>();

  constructor(readonly capacity: number) {}

  get(key: CollabFieldKey, rowId: string): WarmDoc | undefined {
    const id = `${key}:${rowId}`;
    const warm = this.docs.get(id);
    if (warm) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.docs.delete(id);
      this.docs.set(id, warm);
    }
    return warm;
  }

  set(key: CollabFieldKey, rowId: string, warm: WarmDoc): void {
    const id = `${key}:${rowId}`;
    this.docs.delete(id);
    this.docs.set(id, warm);
    // Evicted documents are only dropped, not destroyed: a write may still be using one.
    for (const oldest of this.docs.keys()) {
      if (this.docs.size <= this.capacity) break;
      this.docs.delete(oldest);
    }
  }

  delete(key: CollabFieldKey, rowId: string): void {
    this.docs.delete(`${key}:${rowId}`);
  }

  get size(): number {
    return this.docs.size;
  }
}

/** Warm documents a process keeps per database (LRU beyond that). */
const DEFAULT_WARM_DOCS = 100;
const byDatabase = new Map<string, WarmDocs>();

/**
 * The process's warm documents of one database: handlers see a transaction, not the runtime,
 * so the cache is keyed by what the transaction reports (database name and server port).
 */
export function warmDocsOf(database: string): WarmDocs {
  let docs = byDatabase.get(database);
  if (!docs) byDatabase.set(database, (docs = new WarmDocs(DEFAULT_WARM_DOCS)));
  return docs;
}
