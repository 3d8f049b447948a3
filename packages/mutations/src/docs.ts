import { DocUpdateInput } from "@repo/schema";

import { defineMutation } from "./define";

/**
 * Appends a Yjs update to a collaborative field's log. Its reducer predicts no row change: the
 * client applied the edit to its `Y.Doc` already, and the field's column (the projection)
 * changes only at compaction. Kept out of `mutations` (the row outbox's registry): clients send
 * it through `@repo/collab`'s provider, whose document is its own outbox (see its README).
 */
const updateDoc = defineMutation({
  name: "docs.update",
  input: DocUpdateInput,
  reduce: () => [],
});

/** The collaborative fields' mutations, grouped as the tRPC router groups them. */
export const docMutations = { update: updateDoc } as const;
