import { docMutations } from "@repo/mutations";
import { DocLoadInput } from "@repo/schema";

import { loadDoc } from "../collab/load";
import { writeDocUpdate } from "../collab/write";
import { fromBase64, toBase64 } from "../collab/ydoc";
import { toTRPCError } from "../errors";
import { mutationProcedure } from "../mutation/procedure";
import { authedProcedure, createTRPCRouter } from "../trpc";

/** Collaborative (Yjs) fields: @repo/collab's provider is the client of both procedures. */
export const docsRouter = createTRPCRouter({
  /**
   * Appends one Yjs update to a field's log (refused with BAD_REQUEST, nothing written, if it is
   * malformed, not text, or builds on edits the server lacks; FORBIDDEN for readers). The
   * projection column is not touched: compaction writes it.
   */
  update: mutationProcedure(
    docMutations.update,
    async ({ sql, args, user, clientId }) => {
      const id = await writeDocUpdate(sql, {
        key: args.field,
        rowId: args.rowId,
        update: fromBase64(args.update),
        userId: user.id,
        clientId,
      });
      return { id: id.toString() };
    },
  ),

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
