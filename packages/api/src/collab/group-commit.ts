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
 * On a warm document the transaction is one round trip: the calls are applied to the warm copy
 * first, and `BEGIN`, the locks, the commit statement (which checks the users' roles and the
 * clients' order in SQL, batch-store.ts) and `COMMIT` go out together; what other processes
 * appended meanwhile comes back with the new rows' ids. Otherwise (first write, the copy lost
 * or refusing a call) two: `BEGIN` + txid + the locks (`batchLockKeys`) + the context read,
 * then the rows + `COMMIT`.
 */
import { channel } from "node:diagnostics_channel";
import type * as Y from "yjs";

import type { Db, Txid, TxQuery } from "@repo/db";
import type { CollabFieldKey, DocUpdateInput, ProjectRole } from "@repo/schema";
import { argsDigest, runDirectWithTxid, sqlStateOf } from "@repo/db";

import type { SessionUser } from "../trpc";
import type { BatchCommitted, BatchRow } from "./batch-store";
import type { StoredDoc } from "./store";
import type { WarmDoc } from "./warm-docs";
import { batchCommit, batchLockKeys, readBatchContext } from "./batch-store";
import { serverField } from "./fields";
import { originOf } from "./origin";
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
  /**
   * Round trip 1 back (BEGIN, txid, locks, the read); `opened` again in a one-trip batch.
   * Then the calls applied and rows built.
   */
  read: number;
  applied: number;
  /** The last round trip back (rows, COMMIT and its WAL flush; all of it in one trip). */
  committed: number;
  /** The warm copy was (re)built from storage in this batch. */
  rebuilt: boolean;
  /** The whole transaction went in one round trip (a warm copy). */
  oneTrip: boolean;
}

/** The warm-documents key of each database client, learnt from its first batch. */
const databaseOf = new WeakMap<Db, string>();

/** How the commit statement refuses (batch-store.ts). */
const NOT_NULL_VIOLATION = "23502";

/** `warm.upTo` while this transaction's rows are not committed: no row has it. */
const UNCOMMITTED = -1n;

/** Writes `calls` (one document's, in their clients' order) in one transaction. */
export async function writeBatch(
  db: Db,
  key: CollabFieldKey,
  rowId: string,
  calls: readonly DocCall[],
): Promise<BatchResult> {
  const timing: Timing = {
    start: performance.now(),
    opened: NaN,
    read: NaN,
    applied: NaN,
    rebuilt: false,
    oneTrip: false,
  };
  const database = databaseOf.get(db);
  const warm = database ? warmDocsOf(database).get(key, rowId) : undefined;
  const result =
    database && warm && warm.upTo !== UNCOMMITTED
      ? await writeOnWarm(db, { key, rowId, calls, warm, database }, timing)
      : null;
  const { written, txid } =
    result ?? (await writeAfterRead(db, { key, rowId, calls }, timing));
  if (batchTimings.hasSubscribers)
    batchTimings.publish({
      ...timing,
      calls: calls.map(({ clientId, mutationId }) => ({
        clientId,
        mutationId,
      })),
      written: written.filter((id) => id !== null).length,
      committed: performance.now(),
    } satisfies BatchTiming);
  return { written, txid };
}

type Timing = Omit<BatchTiming, "calls" | "written" | "committed">;

/** Thrown out of a one-trip transaction (nothing sent yet) when the copy refused a call. */
class CopyRefused extends Error {}

/**
 * The one-trip batch: each call applied to the warm copy before anything goes out, then one
 * round trip. Null when the copy refused a call: it may hold part of it, so it is dropped and
 * the batch goes the two-trip way, which rebuilds it and passes over just that call.
 */
async function writeOnWarm(
  db: Db,
  batch: {
    key: CollabFieldKey;
    rowId: string;
    calls: readonly DocCall[];
    warm: WarmDoc;
    database: string;
  },
  timing: Timing,
): Promise<BatchResult | null> {
  const { key, rowId, calls, warm } = batch;
  const warmDocs = warmDocsOf(batch.database);
  const upTo = warm.upTo;
  // Until the rows are committed and the copy caught up, no other write may trust it.
  warm.upTo = UNCOMMITTED;
  let committed: BatchCommitted | undefined;
  try {
    const { data: written, txid } = await runDirectWithTxid(
      db,
      async (_query, atCommit) => {
        timing.opened = timing.read = performance.now();
        if (!atCommit) throw new CopyRefused();
        // Roles are checked by the commit statement: a refusal fails the batch.
        const skipped = passedOver(calls, () => false);
        const rows: BatchRow[] = [];
        const accepted = calls.map((call, index) => {
          if (skipped[index]) return false;
          try {
            applyCheckedUpdate(warm.doc, call.update);
          } catch {
            throw new CopyRefused();
          }
          rows.push(batchRow(call));
          return true;
        });
        timing.applied = performance.now();
        if (rows.length > 0)
          atCommit(
            ...batchCommit(
              { key, rowId, rows, upTo, origin: originOf(db) },
              (done) => (committed = done),
            ),
          );
        return accepted;
      },
      {
        lockKey: batchLockKeys(
          key,
          rowId,
          calls.map((call) => call.clientId),
        ),
      },
    );
    timing.oneTrip = true;
    warm.upTo = upTo;
    // What other processes appended under the lock before these rows; a row folded and
    // deleted unseen leaves the copy behind: dropped, it is rebuilt on the next write.
    if (committed && !catchUp(warm, committed.log)) warmDocs.delete(key, rowId);
    else warm.upTo = committed?.ids.at(-1) ?? upTo;
    return { written: assignIds(written, committed), txid };
  } catch (error) {
    warmDocs.delete(key, rowId);
    // The copy refused a call, or the commit statement a user's role or a client's order
    // (23502): the two-trip way refuses just those calls.
    if (
      error instanceof CopyRefused ||
      sqlStateOf(error) === NOT_NULL_VIOLATION
    )
      return null;
    throw error;
  }
}

/** The two-trip batch: the context read under the locks, then the rows with `COMMIT`. */
async function writeAfterRead(
  db: Db,
  batch: { key: CollabFieldKey; rowId: string; calls: readonly DocCall[] },
  timing: Timing,
): Promise<BatchResult> {
  const { key, rowId, calls } = batch;
  // All its statements are its own SQL: no Prisma transaction around them (runDirectWithTxid).
  const { data, txid } = await runDirectWithTxid(
    db,
    async (query, atCommit) => {
      timing.opened = performance.now();
      // Without the direct path the rows cannot travel with COMMIT: the usual path then.
      if (!atCommit) return { accepted: calls.map(() => false) };
      const database = databaseOf.get(db);
      let warm = database ? warmDocsOf(database).get(key, rowId) : undefined;
      const context = await readBatchContext(query, key, rowId, {
        withState: !warm,
        fromId: warm?.upTo ?? 0n,
        userIds: [...new Set(calls.map((call) => call.user.id))],
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
      const upTo = warm.upTo;
      const accepted = await applyCalls(query, {
        key,
        rowId,
        warm,
        calls,
        roles: context.roles,
      });
      const rows = calls.filter((_, index) => accepted[index]).map(batchRow);
      timing.applied = performance.now();
      if (rows.length === 0) {
        // Nothing to write; the copy may have been rebuilt: load it again next time.
        warmDocs.delete(key, rowId);
        return { accepted };
      }
      const box: { committed?: BatchCommitted } = {};
      const copy = warm;
      // If the commit fails, the copy stays UNCOMMITTED and the next write loads it again.
      atCommit(
        ...batchCommit(
          { key, rowId, rows, upTo: null, origin: originOf(db) },
          (done) => {
            box.committed = done;
            copy.upTo = done.ids.at(-1) ?? upTo;
          },
        ),
      );
      return { accepted, box };
    },
    {
      lockKey: batchLockKeys(
        key,
        rowId,
        calls.map((call) => call.clientId),
      ),
    },
  );
  return { written: assignIds(data.accepted, data.box?.committed), txid };
}

/** Each accepted call's new row id, in order; null for a call passed over (it runs alone). */
function assignIds(
  accepted: readonly boolean[],
  committed: BatchCommitted | undefined,
): (bigint | null)[] {
  let next = 0;
  return accepted.map((done) => {
    if (!done) return null;
    const id = committed?.ids[next++];
    if (id === undefined) throw new Error("collab batch: too few ids");
    return id;
  });
}

const batchRow = (call: DocCall): BatchRow => ({
  clientId: call.clientId,
  mutationId: call.mutationId,
  userId: call.user.id,
  update: call.args.update,
  digest: argsDigest(call.args),
});

/**
 * For each call, whether it is passed over before anything is applied: `refuses` it, it
 * repeats or precedes an earlier call of its client, or it follows one passed over (it may
 * build on it).
 */
function passedOver(
  calls: readonly DocCall[],
  refuses: (call: DocCall) => boolean,
): boolean[] {
  const clients = new Set<string>();
  const latest = new Map<string, number>();
  return calls.map((call) => {
    if (
      clients.has(call.clientId) ||
      (latest.get(call.clientId) ?? 0) >= call.mutationId ||
      refuses(call)
    ) {
      clients.add(call.clientId);
      return true;
    }
    latest.set(call.clientId, call.mutationId);
    return false;
  });
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
  const skipped = passedOver(calls, (call) => {
    const role = roles.get(call.user.id);
    return !role || !writerRoles.includes(role);
  });
  const accepted: boolean[] = [];
  const refused = new Set<string>();
  for (const [index, call] of calls.entries()) {
    if (skipped[index] || refused.has(call.clientId)) {
      accepted.push(false);
      continue;
    }
    try {
      applyCheckedUpdate(warm.doc, call.update);
    } catch {
      // The copy may hold part of it, or pending structs: rebuild it from what is accepted.
      refused.add(call.clientId);
      accepted.push(false);
      warm.doc = await storedDoc(query, key, rowId, null);
      for (const [done, wasAccepted] of accepted.entries())
        if (wasAccepted && calls[done])
          applyCheckedUpdate(warm.doc, calls[done].update);
      continue;
    }
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
