/**
 * The server side of collaborative fields for apps and scripts: compaction on demand and
 * programmatic edits, through the runtime (`runtime.collab`).
 */
import { randomUUID } from "node:crypto";
import * as Y from "yjs";

import type { Db, Txid } from "@repo/db";
import type { CollabFieldKey, DocUpdateInput } from "@repo/schema";
import { DOC_TEXT_NAME } from "@repo/schema";

import type { SessionUser } from "../trpc";
import type { CompactionResult } from "./compaction";
import type { CompactionOptions } from "./compaction-job";
import { compactDoc } from "./compaction";
import { compactDueDocs, DEFAULT_COMPACTION } from "./compaction-job";
import { loadDoc } from "./load";
import { relayOf } from "./relay";
import { toBase64 } from "./ydoc";

export type { CompactionJob, CompactionOptions } from "./compaction-job";
export type { CompactionResult } from "./compaction";
export { DEFAULT_COMPACTION, startCompaction } from "./compaction-job";

export interface CollabServer {
  /** Folds the document's log into its state and projection now. */
  compact(field: CollabFieldKey, rowId: string): Promise<CompactionResult>;
  /** One compaction round over every due document (`CompactionOptions`' thresholds). */
  compactDue(
    options?: Pick<CompactionOptions, "everyUpdates" | "maxAgeMs">,
  ): Promise<number>;
  /**
   * Edits a field as `user` (a CLI, a script): `edit` changes the document's `Y.Text`, and the
   * real Yjs update it produced goes through `docs.update` (authorised, logged, a txid), so it
   * merges with concurrent edits of others like any client's. Resolves with the txid (null if
   * `edit` changed nothing) and the text after the edit.
   */
  edit(
    user: SessionUser,
    request: {
      field: CollabFieldKey;
      rowId: string;
      edit: (text: Y.Text) => void;
    },
  ): Promise<{ txid: Txid | null; text: string }>;
  /** Clients following the document's relay (`/docs/follow`) on this process. */
  followers(field: CollabFieldKey, rowId: string): number;
}

/** `docs.update` called as `user` (the runtime passes its caller, avoiding an import cycle). */
export type DocUpdateCall = (
  user: SessionUser,
  envelope: { clientId: string; mutationId: number; args: DocUpdateInput },
) => Promise<{ txid: Txid }>;

export function createCollabServer(
  db: Db,
  update: DocUpdateCall,
): CollabServer {
  return {
    compact: (field, rowId) => compactDoc(db, field, rowId),
    followers: (field, rowId) => relayOf(db).followerCount(field, rowId),
    compactDue: (options = {}) =>
      compactDueDocs(db, { ...DEFAULT_COMPACTION, ...options }),
    edit: async (user, { field, rowId, edit }) => {
      const loaded = await loadDoc(db, {
        key: field,
        rowId,
        userId: user.id,
        stateVector: new Uint8Array([0]),
      });
      const doc = new Y.Doc();
      try {
        Y.applyUpdate(doc, loaded.update);
        const text = doc.getText(DOC_TEXT_NAME);
        // The edit's own update (its structs and deletions), as a client would send it.
        const updates: Uint8Array[] = [];
        doc.on("update", (update: Uint8Array) => updates.push(update));
        doc.transact(() => edit(text));
        const [diff] = updates;
        if (!diff) return { txid: null, text: text.toJSON() };
        // A one-off client: its own id, one mutation.
        const { txid } = await update(user, {
          clientId: randomUUID(),
          mutationId: 1,
          args: {
            field,
            rowId,
            update: toBase64(diff),
            at: new Date(),
          },
        });
        return { txid, text: text.toJSON() };
      } finally {
        doc.destroy();
      }
    },
  };
}
