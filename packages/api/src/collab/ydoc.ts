/**
 * The server's Yjs operations: applying a client's update without letting it throw, loop or
 * leave the document waiting on structs the server never saw, and building documents from
 * what is stored.
 */
import * as Y from "yjs";

import { DOC_TEXT_NAME } from "@repo/schema";

import { checkTextUpdate, UpdateFormatError } from "./check-update";

export { UpdateFormatError };

/**
 * The update builds on edits the server does not have (another document's history, or a
 * client that lost track of what it sent): Yjs would park it as pending structs forever.
 */
export class MissingDependenciesError extends Error {
  constructor() {
    super(
      "The update depends on edits the server does not have: load the document again and send its difference",
    );
    this.name = "MissingDependenciesError";
  }
}

/** Yjs client id of the seed: the text the field held before it became collaborative. */
const SEED_CLIENT_ID = 0;

function newTextDoc(): Y.Doc {
  // gc stays on: compaction's encoding drops deleted content (the stored state stays small).
  const doc = new Y.Doc();
  doc.getText(DOC_TEXT_NAME);
  return doc;
}

export const textOf = (doc: Y.Doc) => doc.getText(DOC_TEXT_NAME).toJSON();

/**
 * The first state of a document whose column already held text. Deterministic (fixed client
 * id, one insert), so two servers seeding the same text produce the same structs; stored with
 * the document's first write, so a later seed never differs from the one clients built on.
 */
export function seedState(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = SEED_CLIENT_ID;
  if (text.length > 0) doc.getText(DOC_TEXT_NAME).insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

/**
 * Applies a client's update to `doc`. Throws `UpdateFormatError` (malformed, truncated, not
 * text, another document's root) or `MissingDependenciesError` (the document is then left with
 * pending structs: the caller must drop it and reload from storage).
 */
export function applyClientUpdate(doc: Y.Doc, update: Uint8Array): void {
  checkTextUpdate(update, DOC_TEXT_NAME);
  applyCheckedUpdate(doc, update);
}

/** `applyClientUpdate` for an update that already passed `checkTextUpdate` (a batch's calls). */
export function applyCheckedUpdate(doc: Y.Doc, update: Uint8Array): void {
  try {
    Y.applyUpdate(doc, update);
  } catch (error) {
    throw new UpdateFormatError(
      `update could not be applied: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null)
    throw new MissingDependenciesError();
}

/** A document from stored bytes (the compacted state, then log rows in id order). */
export function docFromStorage(
  state: Uint8Array | null,
  updates: Iterable<Uint8Array>,
): Y.Doc {
  const doc = newTextDoc();
  // Stored bytes passed `applyClientUpdate` once; one transaction keeps observers quiet.
  doc.transact(() => {
    if (state) Y.applyUpdate(doc, state);
    for (const update of updates) Y.applyUpdate(doc, update);
  });
  return doc;
}

/** Longest run of `applyInSlices` between two turns of the event loop, in ms. */
const SLICE_MS = 2;

/**
 * Applies stored updates (already checked) to a document no one else is using, yielding to the
 * event loop every `SLICE_MS`, so a long fold does not hold up the calls being written.
 */
export async function applyInSlices(
  doc: Y.Doc,
  updates: readonly Uint8Array[],
): Promise<void> {
  let next = 0;
  while (next < updates.length) {
    const until = performance.now() + SLICE_MS;
    doc.transact(() => {
      while (next < updates.length && performance.now() < until)
        Y.applyUpdate(doc, updates[next++] ?? new Uint8Array());
    });
    if (next < updates.length) await new Promise(setImmediate);
  }
}

export const toBase64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
    "base64",
  );
export const fromBase64 = (text: string) =>
  new Uint8Array(Buffer.from(text, "base64"));
