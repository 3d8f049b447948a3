/**
 * `docs.update`'s work inside the mutation's transaction: authorise, bring the warm document up
 * to date under the document's lock, apply the update to it (refusing anything Yjs would choke
 * on or park as pending), append it to the log.
 */
import type { TxQuery } from "@repo/db";
import type { CollabFieldKey } from "@repo/schema";

import type { WarmDoc, WarmDocs } from "./warm-docs";
import { invalidField, notFound } from "../errors";
import { requireRole } from "../mutation/authorize";
import { serverField } from "./fields";
import {
  appendUpdate,
  insertSeed,
  lockDoc,
  readProjection,
  readStoredDoc,
} from "./store";
import { catchUp, warmDocsOf } from "./warm-docs";
import {
  applyClientUpdate,
  docFromStorage,
  MissingDependenciesError,
  seedState,
  UpdateFormatError,
} from "./ydoc";

export interface DocWrite {
  key: CollabFieldKey;
  rowId: string;
  update: Uint8Array;
  userId: string;
  clientId: string;
  /** The writing runtime's, when its relay hands the row to followers (origin.ts). */
  origin: string | null;
}

/** Returns the id of the appended log row. */
export async function writeDocUpdate(
  sql: TxQuery,
  write: DocWrite,
): Promise<bigint> {
  const { key, rowId } = write;
  // Sent with BEGIN: the lock comes first, so every read below sees every committed append.
  const warmDocs = warmDocsOf(await lockDoc(sql, key, rowId));
  const warm = await currentDoc(sql, warmDocs, write);
  try {
    applyClientUpdate(warm.doc, write.update);
  } catch (error) {
    // The copy may hold half of the update or pending structs: the next write reloads it.
    warmDocs.delete(key, rowId);
    if (error instanceof UpdateFormatError)
      throw invalidField("update", `Not a valid update: ${error.message}`);
    if (error instanceof MissingDependenciesError)
      throw invalidField("update", error.message);
    throw error;
  }
  const id = await appendUpdate(sql, write);
  // If this transaction rolls back, row `id` never exists and the next write reloads.
  warm.upTo = id;
  return id;
}

/**
 * The warm document, caught up with the log (under the document's lock: nothing is appended or
 * folded meanwhile), or loaded from storage when it is missing or a compaction overtook it;
 * refuses users who may not edit the row (the same statement reads their role).
 */
async function currentDoc(
  sql: TxQuery,
  warmDocs: WarmDocs,
  write: DocWrite,
): Promise<WarmDoc> {
  const { key, rowId } = write;
  const warm = warmDocs.get(key, rowId);
  const stored = await readStoredDoc(sql, key, rowId, {
    withState: !warm,
    fromId: warm?.upTo ?? 0n,
    accessOf: write.userId,
  });
  if (stored.role === null) throw notFound("Document not found");
  requireRole(stored.role, serverField(key).writerRoles, "edit this text");
  if (warm) {
    if (catchUp(warm, stored)) return warm;
    warmDocs.delete(key, rowId);
    return currentDoc(sql, warmDocs, write);
  }
  let state = stored.state;
  if (!stored.hasState) {
    // First write: store the seed the document's clients built on (or will build on). A load
    // may have stored it meanwhile (loads take no lock): then that one is the seed.
    const projection = await readProjection(sql, key, rowId);
    state = seedState(projection ?? "");
    if (!(await insertSeed(sql, key, rowId, state)))
      return currentDoc(sql, warmDocs, write);
  }
  const loaded: WarmDoc = {
    doc: docFromStorage(
      state,
      stored.updates.map((row) => row.update),
    ),
    upTo: stored.updates.at(-1)?.id ?? stored.foldedThrough,
  };
  warmDocs.set(key, rowId, loaded);
  return loaded;
}
