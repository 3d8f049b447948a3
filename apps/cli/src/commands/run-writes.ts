/** Runs a command's writes on a connection and always closes it, whatever happens. */
import { InvalidMutationInputError, MutationRejectedError } from "@repo/sync";

import type { Session } from "../config";
import type { Connection } from "../connection";
import type { CliContext } from "../context";
import { connect } from "../connection";
import { CliError, EXIT, invalidInputText } from "../errors";

/**
 * Option strings as a mutation's input: `mutate` checks them with the mutation's own zod
 * schema before anything is queued or sent, so the CLI keeps no copy of the rules.
 */
export function fromOptions<TInput>(input: Record<string, unknown>): TInput {
  return input as TInput;
}

/** A write refused by the mutation's schema, with each field named as the option that set it. */
export function asUsageError(
  error: unknown,
  optionOf: (field: string) => string,
): unknown {
  return error instanceof InvalidMutationInputError
    ? new CliError(invalidInputText(error, optionOf), EXIT.usage)
    : error;
}

/** Refusals that mean the write had been made already (an import row's issue exists). */
export function isAlreadyDone(error: unknown): boolean {
  return error instanceof MutationRejectedError && error.reason === "duplicate";
}

export async function withConnection<T>(
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
 * side by side (each client sends one write at a time, and its outbox file is rewritten, with
 * an fsync, on every change). Every lane's queue left by an interrupted run is sent again.
 */
export async function withConnections<T>(
  context: CliContext,
  { session, lanes }: { session: Session; lanes: number },
  work: (connections: Connection[]) => Promise<T>,
): Promise<T> {
  const connections = Array.from({ length: lanes }, (_, lane) =>
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
  }
}
