/**
 * Group commit of one document's `docs.update` calls: the calls that queued while the
 * document's previous transaction was in flight are written by one transaction, so N writers
 * of a document pay one lock wait and one WAL flush per round instead of one each.
 *
 * Each call is still checked alone: its user's role, its place in its client's order, and its
 * update applied to the warm `Y.Doc` (a refused update is taken out and the document rebuilt
 * without it, so it fails no other call). Each keeps its own `doc_updates` row and mutation-log
 * row; all share the transaction's txid. A call this path cannot decide (a refusal to record,
 * a replay, a document never written, a commit the log refuses) is handed back, to run alone
 * through the usual mutation path, which gives it exactly the single-call answer.
 *
 * Two round trips: `BEGIN` + txid + the locks (`batchLockKeys`) + the context read, then the rows +
 * `COMMIT`.
 */
import { channel } from "node:diagnostics_channel";
import type * as Y from "yjs";

import type { Db, Txid, TxQuery } from "@repo/db";
import type { CollabFieldKey, DocUpdateInput, ProjectRole } from "@repo/schema";
import { argsDigest, runDirectWithTxid } from "@repo/db";

import type { SessionUser } from "../trpc";
import type { BatchRow } from "./batch-store";
import type { StoredDoc } from "./store";
import type { WarmDoc } from "./warm-docs";
import { encodeResult } from "../mutation/procedure";
import {
  BATCH_COMMIT_SQL,
  batchCommitValues,
  batchLockKeys,
  readBatchContext,
} from "./batch-store";
import { serverField } from "./fields";
import { insertSeed, readProjection, readStoredDoc } from "./store";
import { catchUp, warmDocsOf } from "./warm-docs";
import { applyCheckedUpdate, docFromStorage, seedState } from "./ydoc";

/** One `docs.update` call, validated, its update decoded and structurally checked. */
export interface DocCall {
  clientId: string;
  mutationId: number;
  user: SessionUser;
  args: DocUpdateInput;
  update: Uint8Array;
}

export interface BatchResult {
  /** Per call (same order): its log row's id, or null: run it alone. */
  written: (bigint | null)[];
  txid: Txid;
}

/**
 * Each batch's stages as it ends (`BatchTiming`), for benches and tracing: where a slow call's
 * time went. Nothing is built unless someone subscribes.
 */
export const batchTimings = channel("repo.collab.batch");

/** `performance.now()` marks of one batch; a stage not reached stays NaN. */
export interface BatchTiming {
  /** The calls (client and mutation id), in batch order, and how many were written. */
  calls: { clientId: string; mutationId: number }[];
  written: number;
  /** `writeBatch` entered; the transaction's callback started (the pool's connection). */
  start: number;
  opened: number;
  /** Round trip 1 back (BEGIN, txid, locks, the read); the calls applied and rows built. */
  read: number;
  applied: number;
  /** Round trip 2 back (rows, COMMIT and its WAL flush). */
  committed: number;
  /** The warm copy was (re)built from storage in this batch. */
  rebuilt: boolean;
}

/** The warm-documents key of each database client, learnt from its first batch. */
const databaseOf = new WeakMap<Db, string>();

/** `warm.upTo` while this transaction's rows are not committed: no row has it. */
const UNCOMMITTED = -1n;

/** Writes `calls` (one document's, in their clients' order) in one transaction. */
export async function writeBatch(
  db: Db,
  key: CollabFieldKey,
  rowId: string,
  calls: readonly DocCall[],
): Promise<BatchResult> {
  const timing = {
    start: performance.now(),
    opened: NaN,
    read: NaN,
    applied: NaN,
    rebuilt: false,
  };
  // All its statements are its own SQL: no Prisma transaction around them (runDirectWithTxid).
  const { data, txid } = await runDirectWithTxid(
    db,
    async (query, atCommit) => {
      timing.opened = performance.now();
      // Without the direct path the rows cannot travel with COMMIT: the usual path then.
      if (!atCommit) return calls.map(() => null);
      const database = databaseOf.get(db);
      let warm = database ? warmDocsOf(database).get(key, rowId) : undefined;
      const context = await readBatchContext(query, key, rowId, {
        withState: !warm,
        fromId: warm?.upTo ?? 0n,
        userIds: [...new Set(calls.map((call) => call.user.id))],
        count: calls.length,
      });
      timing.read = performance.now();
      databaseOf.set(db, context.database);
      const warmDocs = warmDocsOf(context.database);
      if (!warm || !catchUp(warm, context)) {
        timing.rebuilt = true;
        warm = {
          doc: await storedDoc(query, key, rowId, warm ? null : context),
          upTo: 0n,
        };
        warmDocs.set(key, rowId, warm);
      }
      const accepted = await applyCalls(query, {
        key,
        rowId,
        warm,
        calls,
        roles: context.roles,
      });
      const rows: BatchRow[] = [];
      const written = calls.map((call, index) => {
        if (!accepted[index]) return null;
        const id = context.ids[rows.length];
        if (id === undefined) throw new Error("collab batch: too few ids");
        rows.push({
          id,
          clientId: call.clientId,
          mutationId: call.mutationId,
          userId: call.user.id,
          update: call.args.update,
          result: encodeResult({ id: id.toString() }),
          digest: argsDigest(call.args),
        });
        return id;
      });
      const last = rows.at(-1);
      if (!last) {
        // Nothing to write; the copy may have been rebuilt: load it again next time.
        warmDocs.delete(key, rowId);
        return calls.map(() => null);
      }
      atCommit(
        BATCH_COMMIT_SQL,
        batchCommitValues(key, rowId, rows),
        "collab_batch_commit",
      );
      // If the commit fails, no row has this id and the next write loads the document again.
      warm.upTo = last.id;
      timing.applied = performance.now();
      return written;
    },
    {
      lockKey: batchLockKeys(
        key,
        rowId,
        calls.map((call) => call.clientId),
      ),
    },
  );
  if (batchTimings.hasSubscribers)
    batchTimings.publish({
      ...timing,
      calls: calls.map(({ clientId, mutationId }) => ({
        clientId,
        mutationId,
      })),
      written: data.filter((id) => id !== null).length,
      committed: performance.now(),
    } satisfies BatchTiming);
  return { written: data, txid };
}

/**
 * Applies each call's update to the warm document in order; true for those accepted. A call
 * is passed over (with its client's later calls, which may build on it) when its user may not
 * edit, it repeats or precedes an earlier call of its client, or its update is refused.
 */
async function applyCalls(
  query: TxQuery,
  batch: {
    key: CollabFieldKey;
    rowId: string;
    warm: WarmDoc;
    calls: readonly DocCall[];
    roles: ReadonlyMap<string, ProjectRole>;
  },
): Promise<boolean[]> {
  const { key, rowId, warm, calls, roles } = batch;
  const { writerRoles } = serverField(key);
  warm.upTo = UNCOMMITTED;
  const accepted: boolean[] = [];
  const passedOver = new Set<string>();
  const latest = new Map<string, number>();
  for (const call of calls) {
    const role = roles.get(call.user.id);
    const inOrder = (latest.get(call.clientId) ?? 0) < call.mutationId;
    if (
      passedOver.has(call.clientId) ||
      !inOrder ||
      !role ||
      !writerRoles.includes(role)
    ) {
      passedOver.add(call.clientId);
      accepted.push(false);
      continue;
    }
    try {
      applyCheckedUpdate(warm.doc, call.update);
    } catch {
      // The copy may hold part of it, or pending structs: rebuild it from what is accepted.
      passedOver.add(call.clientId);
      accepted.push(false);
      warm.doc = await storedDoc(query, key, rowId, null);
      for (const [index, done] of accepted.entries())
        if (done && calls[index])
          applyCheckedUpdate(warm.doc, calls[index].update);
      continue;
    }
    latest.set(call.clientId, call.mutationId);
    accepted.push(true);
  }
  return accepted;
}

/**
 * The document from storage: `known` (state and rows read under the lock) or read again; a
 * document never written gets its seed stored first, as the single path does (write.ts).
 */
async function storedDoc(
  query: TxQuery,
  key: CollabFieldKey,
  rowId: string,
  known: Omit<StoredDoc, "foldedThrough"> | null,
): Promise<Y.Doc> {
  const read = () =>
    readStoredDoc(query, key, rowId, { withState: true, fromId: 0n });
  let stored = known ?? (await read());
  if (!stored.hasState) {
    const seed = seedState((await readProjection(query, key, rowId)) ?? "");
    // A load may have stored the seed meanwhile (loads take no lock): then that one is it.
    stored = (await insertSeed(query, key, rowId, seed))
      ? { ...stored, state: seed }
      : await read();
  }
  return docFromStorage(
    stored.state,
    stored.updates.map((row) => row.update),
  );
}
