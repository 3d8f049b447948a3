/**
 * The one way to turn a shared mutation definition into a tRPC procedure.
 *
 * A procedure built here: requires a session; validates `{ clientId, mutationId, args }`
 * (args with the definition's own zod schema); runs the calls of one client in id order
 * (`ClientOrder`), each through `runLoggedMutation`,
 * i.e. in one transaction that also reads the txid and writes the mutation log (idempotent,
 * ordered per client, serialization failures and deadlocks retried); and returns
 * `{ data, txid }`. A handler only writes rows and throws `forbidden(…)`-style errors; it cannot
 * read the txid elsewhere or forget the log.
 */
import type { SuperJSONResult } from "superjson";
import type { z } from "zod";
import superjson from "superjson";

import type { Db, JsonValue, TxClient, Txid, TxQuery } from "@repo/db";
import type { MutationDefinition } from "@repo/mutations";
import { runLoggedMutation } from "@repo/db";
import { MutationEnvelopeSchema } from "@repo/schema";

import type { SessionUser } from "../trpc";
import { classifyRejection, toTRPCError } from "../errors";
import { authedProcedure } from "../trpc";
import { ClientOrder } from "./client-order";

/** One per process: orders the calls of each client that arrive together (batches). */
const clientOrder = new ClientOrder();

export interface MutationHandlerOptions<TArgs> {
  /** The transaction: every read and write of the handler goes through it. */
  tx: TxClient;
  /**
   * Raw SQL in the same transaction (`$1`-style parameters), for the handler's authorisation
   * reads: straight to the connection, without Prisma's per-statement work. Give a
   * statement a `name` (unique per SQL text) to prepare it once per connection.
   */
  sql: TxQuery;
  /** The validated input (after the definition's zod transforms). */
  args: TArgs;
  /** The signed-in user. */
  user: SessionUser;
  /** The calling client's id (the envelope's `clientId`). */
  clientId: string;
}

export type MutationHandler<TDefinition extends MutationDefinition, TData> = (
  options: MutationHandlerOptions<z.output<TDefinition["input"]>>,
) => Promise<TData>;

/** What every mutation procedure returns. */
export interface MutationResult<TData> {
  data: TData;
  /** xid of the transaction that wrote the rows: the client drops optimistic state when it syncs. */
  txid: Txid;
}

/**
 * Builds the procedure of `definition`, with `handler` doing the writes.
 *
 * @example
 * create: mutationProcedure(mutations.issues.create, async ({ tx, sql, args, user }) => {
 *   requireRole(await roleIn(sql, args.projectId, user.id), WRITER_ROLES, "create issues");
 *   return tx.issue.create({ data: { ... }, select: issueSelect });
 * }),
 */
export function mutationProcedure<
  TDefinition extends MutationDefinition,
  TData,
>(definition: TDefinition, handler: MutationHandler<TDefinition, TData>) {
  const input = MutationEnvelopeSchema.extend({ args: definition.input });
  return authedProcedure
    .input(input)
    .mutation(({ ctx, input }): Promise<MutationResult<TData>> =>
      runMutationCall(
        ctx,
        definition,
        { ...input, args: input.args as z.output<TDefinition["input"]> },
        handler,
      ),
    );
}

/**
 * One validated call of `definition` as `mutationProcedure` runs it (client order, logged
 * transaction, errors as tRPC's); for procedures that take the usual path only for some calls
 * (`docs.update` coalesces the rest).
 */
export async function runMutationCall<
  TDefinition extends MutationDefinition,
  TData,
>(
  ctx: { db: Db; user: SessionUser },
  definition: TDefinition,
  input: {
    clientId: string;
    mutationId: number;
    args: z.output<TDefinition["input"]>;
  },
  handler: MutationHandler<TDefinition, TData>,
): Promise<MutationResult<TData>> {
  const { args } = input;
  try {
    const call = {
      clientId: input.clientId,
      mutationId: input.mutationId,
      userId: ctx.user.id,
      name: definition.name,
      args,
    };
    const { data, txid } = await clientOrder.run(
      call.clientId,
      call.mutationId,
      () =>
        runLoggedMutation(
          ctx.db,
          call,
          (tx, sql) =>
            handler({
              tx,
              sql,
              args,
              user: ctx.user,
              clientId: call.clientId,
            }),
          {
            encode: encodeResult,
            decode: (json) =>
              superjson.deserialize<TData>(json as unknown as SuperJSONResult),
            classifyRejection,
          },
        ),
    );
    return { data, txid };
  } catch (error) {
    throw toTRPCError(error);
  }
}

/** A call's data as the mutation log keeps it: superjson keeps dates (and bigints) through jsonb. */
const encodeResult = (value: unknown): JsonValue =>
  superjson.serialize(value) as unknown as JsonValue;
