/**
 * What the CLI tells a person when a command fails: one line (or a few), never a stack trace,
 * and an exit code a script can switch on.
 */
import { InvalidMutationInputError, MutationRejectedError } from "@repo/sync";

export const EXIT = {
  ok: 0,
  /** The server refused, or some rows of an import were bad. */
  failed: 1,
  /** Wrong arguments or input refused before anything was sent. */
  usage: 2,
  /** No session, or the server does not accept it. */
  unauthorized: 3,
  /** The server could not be reached (queued writes stay in the outbox). */
  unreachable: 4,
  interrupted: 130,
} as const;

export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

/** A server refusal as the user should read it: the message and each field's problem. */
function rejectionText(error: MutationRejectedError): string {
  const fields = Object.entries(error.fieldErrors).map(
    ([field, messages]) => `  ${field}: ${messages.join(", ")}`,
  );
  return [
    `refused by the server (${error.code}): ${error.message}`,
    ...fields,
  ].join("\n");
}

/**
 * Refused by the mutation's own zod schema before any request: each field's messages, the
 * field named as the user typed it (`fieldName`, e.g. an option or a CSV column).
 */
export function invalidInputText(
  error: InvalidMutationInputError,
  fieldName: (field: string) => string = (field) => field,
): string {
  return [
    "invalid input (nothing was sent):",
    ...Object.entries(error.fieldErrors).map(
      ([field, messages]) =>
        `  ${field ? fieldName(field) : "(input)"}: ${messages.join(", ")}`,
    ),
  ].join("\n");
}

export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof InvalidMutationInputError)
    return new CliError(invalidInputText(error), EXIT.usage);
  if (error instanceof MutationRejectedError)
    return new CliError(
      rejectionText(error),
      error.code === "UNAUTHORIZED" ? EXIT.unauthorized : EXIT.failed,
    );
  return new CliError(error instanceof Error ? error.message : String(error));
}
