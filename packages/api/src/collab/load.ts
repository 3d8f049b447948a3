/**
 * `docs.load`: what a client's document lacks, from storage (state ⊕ log in one snapshot),
 * diffed against the client's state vector.
 *
 * The client starts following the log's shape first and calls this once the shape is up to
 * date: every row is then either in the shape (read after) or in this answer (folded or not),
 * so a compaction deleting rows between the two cannot open a gap. See @repo/collab's README.
 */
import * as Y from "yjs";

import type { Db } from "@repo/db";
import type { CollabFieldKey } from "@repo/schema";

import { invalidField, notFound } from "../errors";
import { checkStateVector, UpdateFormatError } from "./check-update";
import { dbQuery, insertSeed, readAccess, readStoredDoc } from "./store";
import { docFromStorage, seedState, textOf } from "./ydoc";

export interface LoadedDoc {
  /** The update the client lacks (V1). */
  update: Uint8Array;
  /** The server's state vector: what the client need not send again. */
  stateVector: Uint8Array;
  /** The document's text as stored (the projection as of this read). */
  text: string;
}

export async function loadDoc(
  db: Db,
  request: {
    key: CollabFieldKey;
    rowId: string;
    userId: string;
    stateVector: Uint8Array;
  },
): Promise<LoadedDoc> {
  try {
    checkStateVector(request.stateVector);
  } catch (error) {
    if (error instanceof UpdateFormatError)
      throw invalidField("stateVector", `Not a state vector: ${error.message}`);
    throw error;
  }
  const query = dbQuery(db);
  const { key, rowId } = request;
  const access = await readAccess(query, key, rowId, request.userId);
  if (!access) throw notFound("Document not found");
  let stored = await readStoredDoc(query, key, rowId, {
    withState: true,
    fromId: 0n,
  });
  if (!stored.hasState && access.projection.length > 0) {
    // Fix the seed now: a client may build on it before anyone writes.
    await insertSeed(query, key, rowId, seedState(access.projection));
    stored = await readStoredDoc(query, key, rowId, {
      withState: true,
      fromId: 0n,
    });
  }
  const doc = docFromStorage(
    stored.state,
    stored.updates.map((row) => row.update),
  );
  try {
    return {
      update: Y.encodeStateAsUpdate(doc, request.stateVector),
      stateVector: Y.encodeStateVector(doc),
      text: textOf(doc),
    };
  } finally {
    doc.destroy();
  }
}
