import { TRPCError } from "@trpc/server";

import { docMutations } from "@repo/mutations";
import {
  DocFollowInput,
  DocLoadInput,
  MutationEnvelopeSchema,
} from "@repo/schema";

import { loadDoc } from "../collab/load";
import {
  followDoc,
  FollowerOverflow,
  FollowerRevoked,
  relayOf,
} from "../collab/relay";
import { dbQuery, readAccess } from "../collab/store";
import { updateDoc } from "../collab/update";
import { fromBase64, toBase64 } from "../collab/ydoc";
import { notFound, toTRPCError } from "../errors";
import { authedProcedure, createTRPCRouter } from "../trpc";

/** Collaborative (Yjs) fields: @repo/collab's provider is the client of both procedures. */
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

  /**
   * The document's updates as they commit on this api process, one array per transaction,
   * sooner than the log's shape brings them (collab/relay.ts); the shape stays the record and
   * catches up whatever this misses. Any member of the row's project may follow; a member
   * removed meanwhile stops receiving within `RELAY.recheckMs`.
   */
  follow: authedProcedure.input(DocFollowInput).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    const query = dbQuery(ctx.db);
    const mayRead = async () =>
      (await readAccess(query, input.field, input.rowId, ctx.user.id)) !== null;
    if (!(await mayRead())) throw toTRPCError(notFound("Document not found"));
    try {
      yield* followDoc(relayOf(ctx.db), input.field, input.rowId, {
        ...RELAY,
        signal,
        mayRead,
      });
    } catch (error) {
      if (error instanceof FollowerRevoked)
        throw toTRPCError(notFound(error.message));
      if (error instanceof FollowerOverflow)
        throw new TRPCError({
          code: "TOO_MANY_REQUESTS",
          message: error.message,
        });
      throw error;
    }
  }),
});

/** A follower may lag 1,000 transactions; access is checked again every 30 s. */
const RELAY = { maxQueued: 1_000, recheckMs: 30_000 };
