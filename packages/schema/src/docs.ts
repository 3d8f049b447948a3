import { z } from "zod";

import type { TableName } from "./rows";
import { TIMESTAMP_RANGE } from "./limits";

/**
 * Collaborative (Yjs) text fields. A field is declared once, here, as `<table>.<column>`: the
 * column keeps the plain-text projection every reader can use (SSR, lists, search), the
 * document itself lives in the `doc_updates` log and `doc_states` (see prisma/schema.prisma).
 * From the declaration alone the kit gives the field its mutation (`docs.update`), its load
 * procedure (`docs.load`), its client binding (`@repo/collab`) and its compaction.
 */
export interface CollabField<
  TTable extends TableName = TableName,
  TColumn extends string = string,
> {
  /** `<table>.<column>`: the `field` value of its `doc_updates` rows. */
  readonly key: `${TTable}.${TColumn}`;
  readonly table: TTable;
  /** The text column that holds the projection (written by compaction only). */
  readonly column: TColumn;
}

/** Declares a collaborative text field of `table` whose projection is `column`. */
export function defineCollabField<
  TTable extends TableName,
  TColumn extends string,
>(field: { table: TTable; column: TColumn }): CollabField<TTable, TColumn> {
  return Object.freeze({
    key: `${field.table}.${field.column}` as const,
    table: field.table,
    column: field.column,
  });
}

/** Every collaborative field of the app, by key. */
export const COLLAB_FIELDS = {
  "issues.description": defineCollabField({
    table: "issues",
    column: "description",
  }),
} as const;

/** Name of the `Y.Text` that holds a field's text in its `Y.Doc` (`doc.getText(DOC_TEXT_NAME)`). */
export const DOC_TEXT_NAME = "text";

export type CollabFieldKey = keyof typeof COLLAB_FIELDS;
export const CollabFieldKeySchema = z.enum(
  Object.keys(COLLAB_FIELDS) as [CollabFieldKey, ...CollabFieldKey[]],
);

export const DOC_LIMITS = {
  /**
   * Bytes of one Yjs update. Base64 makes it 4/3 larger on the wire, which keeps a call under
   * the api's 1 MiB body cap. A typed paragraph is tens of bytes; an offline day of editing a
   * long description a few hundred KB at most.
   */
  updateBytes: 512 * 1024,
  /** Bytes of a state vector (a few bytes per client that ever edited the document). */
  stateVectorBytes: 64 * 1024,
} as const;

/** Base64 text of at most `bytes` decoded bytes (the length check runs before decoding). */
const base64Of = (bytes: number) =>
  z
    .base64()
    .max(Math.ceil(bytes / 3) * 4, `must be at most ${bytes} bytes`)
    .min(1);

const id = z.guid();
const at = z.date().min(TIMESTAMP_RANGE.min).max(TIMESTAMP_RANGE.max);

/**
 * `docs.update`: one Yjs update (V1 encoding, base64) to the document of `field` on row
 * `rowId`. Base64 rather than bytes: superjson has no `Uint8Array`, and the mutation log
 * digests the arguments as JSON.
 */
export const DocUpdateInput = z.strictObject({
  field: CollabFieldKeySchema,
  rowId: id,
  update: base64Of(DOC_LIMITS.updateBytes),
  at,
});
export type DocUpdateInput = z.infer<typeof DocUpdateInput>;

/** `docs.load`: the client's state vector (base64; an empty document's is `AA==`). */
export const DocLoadInput = z.strictObject({
  field: CollabFieldKeySchema,
  rowId: id,
  stateVector: base64Of(DOC_LIMITS.stateVectorBytes),
});
export type DocLoadInput = z.infer<typeof DocLoadInput>;

/**
 * The relay's query (`/docs/follow?field=…&row=…&client=…`): the document whose committed
 * updates to receive as they commit, and the follower's mutation client id, whose own updates
 * are not sent back.
 */
export const DocFollowInput = z.strictObject({
  field: CollabFieldKeySchema,
  rowId: id,
  clientId: id.optional(),
});
export type DocFollowInput = z.infer<typeof DocFollowInput>;

/**
 * One update the relay sends, committed: its `doc_updates` row id (the same row reaches
 * the log's shape later), the writing client's mutation client id and the update (base64).
 */
export interface RelayedDocUpdate {
  id: string;
  clientId: string;
  update: string;
}
