/**
 * Compaction: folds a document's log into its stored state and projection.
 *
 * The document (state + log, one snapshot; or the one this process kept from its last round
 * of the document, plus the rows appended since) is encoded with `Y.encodeStateAsUpdate` (V1:
 * the log's encoding, and the faster one to load) outside any lock; then one transaction locks
 * the owning row and the state row (not the document's lock: writers never wait for it, see
 * `lockDocForCompaction`), checks no other compaction moved the state meanwhile, writes the
 * state, the projection column, and deletes exactly the rows it folded. Rows appended meanwhile
 * stay in the log for the next round. Never `Y.mergeUpdates` over the log: super-linear, and it
 * keeps deleted content (lessons-from-peers.md).
 */
import { channel } from "node:diagnostics_channel";
import * as Y from "yjs";

import type { Db } from "@repo/db";
import type { CollabFieldKey } from "@repo/schema";
import { runWithTxid } from "@repo/db";

import { docLockKey } from "./fields";
import {
  dbQuery,
  lockDocForCompaction,
  readStoredDoc,
  writeCompaction,
} from "./store";
import { WarmDocs } from "./warm-docs";
import { applyInSlices, docFromStorage, textOf } from "./ydoc";

export interface CompactionResult {
  /** Log rows folded (0: nothing to do, or another server folded them first). */
  folded: number;
  /** Bytes of the stored state afterwards (when `folded` > 0). */
  stateBytes: number;
}

/**
 * Each compaction's stages as it ends (`CompactionTiming`), for benches and tracing: the fold
 * is CPU on the event loop, the transaction holds the document's lock.
 */
export const compactionTimings = channel("repo.collab.compaction");

/** `performance.now()` marks of one compaction that folded rows. */
export interface CompactionTiming {
  /**
   * Started; state and log read; the new rows applied (in slices that yield); encoded with the
   * projection's text (CPU that holds the event loop); its transaction committed.
   */
  start: number;
  read: number;
  applied: number;
  folded: number;
  committed: number;
  rows: number;
  stateBytes: number;
}

/**
 * Each database client's fold documents: a compaction keeps its document for the next round of
 * the same document, which then applies only the rows appended since instead of loading the
 * whole state again (the state of the B4 trace, 300 KB, takes ~50 ms of CPU to load; its
 * ~1,000 new rows a second ~20 ms, applied in slices that yield to the event loop).
 */
const foldDocs = new WeakMap<Db, WarmDocs>();
const FOLD_DOCS = 16;

/** Each database client's compactions in progress, by document. */
const running = new WeakMap<Db, Map<string, Promise<unknown>>>();

/**
 * Folds the document's log into its state and projection. Compactions of one document in this
 * process run one after the other: the second (the job's round beside an on-demand call) would
 * otherwise find the state moved under it and fold nothing, and both would pay the fold.
 */
export async function compactDoc(
  db: Db,
  key: CollabFieldKey,
  rowId: string,
): Promise<CompactionResult> {
  let inProgress = running.get(db);
  if (!inProgress)
    running.set(db, (inProgress = new Map<string, Promise<unknown>>()));
  const id = docLockKey(key, rowId);
  const before = inProgress.get(id);
  const mine = (before ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => compactNow(db, key, rowId));
  inProgress.set(id, mine);
  try {
    return await mine;
  } finally {
    if (inProgress.get(id) === mine) inProgress.delete(id);
  }
}

async function compactNow(
  db: Db,
  key: CollabFieldKey,
  rowId: string,
): Promise<CompactionResult> {
  const start = performance.now();
  const query = dbQuery(db);
  let kept = foldDocs.get(db);
  if (!kept) foldDocs.set(db, (kept = new WarmDocs(FOLD_DOCS)));
  // Out of the cache while in use: it goes back only with the state it was folded into.
  let cached = kept.get(key, rowId);
  kept.delete(key, rowId);
  let stored = await readStoredDoc(query, key, rowId, {
    withState: !cached,
    fromId: cached ? cached.upTo + 1n : 0n,
  });
  if (cached && stored.foldedThrough !== cached.upTo) {
    // Another process compacted since: its state is the one to build on.
    cached.doc.destroy();
    cached = undefined;
    stored = await readStoredDoc(query, key, rowId, {
      withState: true,
      fromId: 0n,
    });
  }
  const last = stored.updates.at(-1);
  if (!last) {
    if (cached) kept.set(key, rowId, cached);
    return { folded: 0, stateBytes: 0 };
  }
  const read = performance.now();
  const doc = cached?.doc ?? docFromStorage(stored.state, []);
  await applyInSlices(
    doc,
    stored.updates.map((row) => row.update),
  );
  const applied = performance.now();
  const state = Y.encodeStateAsUpdate(doc);
  const text = textOf(doc);
  const foldedAt = performance.now();
  const folded = await runWithTxid(db, async (_tx, txQuery) => {
    const foldedThrough = await lockDocForCompaction(txQuery, key, rowId);
    if (foldedThrough === undefined) {
      // The owning row is gone: so is the document.
      await txQuery(
        `DELETE FROM doc_updates WHERE field = $1 AND row_id = $2::uuid`,
        [key, rowId],
      );
      await txQuery(
        `DELETE FROM doc_states WHERE field = $1 AND row_id = $2::uuid`,
        [key, rowId],
      );
      return 0;
    }
    // Another compaction wrote the state after our read: ours would drop its rows' effect.
    if ((foldedThrough ?? 0n) !== stored.foldedThrough) return 0;
    await writeCompaction(txQuery, {
      key,
      rowId,
      state,
      text,
      throughId: last.id,
      count: stored.updates.length,
    });
    return stored.updates.length;
  }).then(
    ({ data }) => data,
    (error: unknown) => {
      doc.destroy();
      throw error;
    },
  );
  if (folded > 0) kept.set(key, rowId, { doc, upTo: last.id });
  else doc.destroy();
  if (folded > 0 && compactionTimings.hasSubscribers)
    compactionTimings.publish({
      start,
      read,
      applied,
      folded: foldedAt,
      committed: performance.now(),
      rows: folded,
      stateBytes: state.byteLength,
    } satisfies CompactionTiming);
  return { folded, stateBytes: folded > 0 ? state.byteLength : 0 };
}
