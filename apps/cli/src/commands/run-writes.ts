/** Runs a command's writes on a connection and always closes it, whatever happens. */
import type { MutationDefinition, MutationInput } from "@repo/mutations";
import type { MutationResult } from "@repo/sync";
import { InvalidMutationInputError, MutationRejectedError } from "@repo/sync";

import type { Session } from "../config";
import type { Connection } from "../connection";
import type { CliContext } from "../context";
import { laneLockPath } from "../config";
import { connect } from "../connection";
import { CliError, EXIT, invalidInputText } from "../errors";
import { takeLanes } from "../lanes";

/**
 * One write from command-line options. The option strings go to `mutate` as they are: it checks
 * them with the mutation's own zod schema before anything is queued or sent (the CLI keeps no
 * copy of the rules), and a refusal names each field as the option that set it (`optionOf`).
 */
export function writeFromOptions<TDefinition extends MutationDefinition>(
  context: CliContext,
  session: Session,
  {
    definition,
    input,
    optionOf,
  }: {
    definition: TDefinition;
    input: Record<string, unknown>;
    optionOf: (field: string) => string;
  },
): Promise<MutationResult> {
  return withConnection(context, session, (connection) =>
    connection
      .settle(
        connection.sync.mutate(definition, input as MutationInput<TDefinition>),
      )
      .catch((error: unknown) => {
        throw error instanceof InvalidMutationInputError
          ? new CliError(invalidInputText(error, optionOf), EXIT.usage)
          : error;
      }),
  );
}

/** Refusals that mean the write had been made already (an import row's issue exists). */
export function isAlreadyDone(error: unknown): boolean {
  return error instanceof MutationRejectedError && error.reason === "duplicate";
}

async function withConnection<T>(
  context: CliContext,
  session: Session,
  work: (connection: Connection) => Promise<T>,
): Promise<T> {
  return withConnections(context, { session, lanes: 1 }, ([connection]) =>
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- one lane asked for
    work(connection!),
  );
}

/**
 * `lanes` clients of the user, each with its own outbox and client id, so their writes travel
 * side by side (each client sends one write at a time). Every lane's queue left by an
 * interrupted run is sent again. The lanes are the lowest that no other running command holds
 * (lanes.ts): two commands at once never share an outbox.
 */
export async function withConnections<T>(
  context: CliContext,
  { session, lanes }: { session: Session; lanes: number },
  work: (connections: Connection[]) => Promise<T>,
): Promise<T> {
  const lease = await takeLanes(lanes, (lane) =>
    laneLockPath(context.configDir, session, lane),
  );
  const connections = lease.lanes.map((lane) =>
    connect(session, {
      configDir: context.configDir,
      lane,
      // Refusals of writes an earlier run queued reach no caller: say what they were.
      onError: (error) => {
        if (!isAlreadyDone(error))
          context.err(`warning: a write queued earlier: ${error.message}`);
      },
    }),
  );
  try {
    const result = await work(connections);
    await Promise.all(connections.map((connection) => connection.drain()));
    return result;
  } finally {
    for (const connection of connections) connection.close();
    await Promise.all(connections.map((connection) => connection.idle()));
    await lease.release();
  }
}
