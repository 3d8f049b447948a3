import { docMutations } from "@repo/mutations";
import { DocLoadInput, MutationEnvelopeSchema } from "@repo/schema";

import { loadDoc } from "../collab/load";
import { updateDoc } from "../collab/update";
import { fromBase64, toBase64 } from "../collab/ydoc";
import { toTRPCError } from "../errors";
import { authedProcedure, createTRPCRouter } from "../trpc";

/**
 * Collaborative (Yjs) fields: @repo/collab's provider is the client of both procedures (and of
 * the relay of committed edits, which is plain SSE: collab/follow-http.ts).
 */
export const docsRouter = createTRPCRouter({
  /**
   * Appends one Yjs update to a field's log (refused with BAD_REQUEST, nothing written, if it is
   * malformed, not text, or builds on edits the server lacks; FORBIDDEN for readers). A
   * mutation like the others (logged, idempotent, `{ data, txid }`), except that calls for one
   * document arriving together share a transaction (collab/group-commit.ts). The projection
   * column is not touched: compaction writes it.
   */
  update: authedProcedure
    .input(MutationEnvelopeSchema.extend({ args: docMutations.update.input }))
    .mutation(({ ctx, input }) => updateDoc(ctx, input)),

  /**
   * What the caller's document lacks (state ⊕ log, diffed against `stateVector`), the server's
   * state vector and text. Any member of the row's project may load.
   */
  load: authedProcedure.input(DocLoadInput).query(async ({ ctx, input }) => {
    const loaded = await loadDoc(ctx.db, {
      key: input.field,
      rowId: input.rowId,
      userId: ctx.user.id,
      stateVector: fromBase64(input.stateVector),
    }).catch((error: unknown) => {
      // The refusals mutations record (NOT_FOUND, BAD_REQUEST) as tRPC errors.
      throw toTRPCError(error);
    });
    return {
      update: toBase64(loaded.update),
      stateVector: toBase64(loaded.stateVector),
      text: loaded.text,
    };
  }),
});
