import type { z } from "zod";

import type { RowOf, TableName } from "@repo/schema";

/** One row change a mutation causes, as the shape stream will later deliver it. */
export type RowChange = {
  [TTable in TableName]:
    | { type: "insert"; table: TTable; row: RowOf<TTable> }
    /** `changes` holds only the columns that change; the rest stay as they are. */
    | {
        type: "update";
        table: TTable;
        id: string;
        changes: Partial<Omit<RowOf<TTable>, "id">>;
      }
    | { type: "delete"; table: TTable; id: string };
}[TableName];

/** Read access to the rows the client currently sees (synced rows with pending writes applied). */
export interface RowsView {
  get<TTable extends TableName>(
    table: TTable,
    id: string,
  ): RowOf<TTable> | undefined;
  list<TTable extends TableName>(table: TTable): Iterable<RowOf<TTable>>;
}

/** Who performs the mutation: the signed-in user (the server takes it from the session). */
export interface MutationActor {
  userId: string;
}

export interface MutationDefinition<
  TName extends string = string,
  TInput extends z.ZodType = z.ZodType,
> {
  /** Dotted procedure path in the tRPC router, e.g. `issues.create`. */
  readonly name: TName;
  readonly input: TInput;
  /**
   * The optimistic reducer: the row changes the server will make for `input`, computed from what
   * the client sees. Pure and deterministic: ids and timestamps come from the input. It may
   * return fewer changes than the server makes when the client lacks rows it needs (it never
   * guesses); the synced rows then fill in.
   */
  readonly reduce: (
    rows: RowsView,
    input: z.output<TInput>,
    actor: MutationActor,
  ) => RowChange[];
}

/**
 * Declares a mutation (frozen: nothing adds to it later). The server builds its procedure from
 * this same object (`mutationProcedure(definition, handler)` in @repo/api), so name and input
 * schema cannot drift between client and server.
 */
export function defineMutation<TName extends string, TInput extends z.ZodType>(
  definition: MutationDefinition<TName, TInput>,
): MutationDefinition<TName, TInput> {
  return Object.freeze(definition);
}

/** Input type a caller passes (before zod's transforms such as trimming). */
export type MutationInput<TDefinition extends MutationDefinition> = z.input<
  TDefinition["input"]
>;

/** Input type after validation: what reducers and server handlers receive. */
export type MutationArgs<TDefinition extends MutationDefinition> = z.output<
  TDefinition["input"]
>;
