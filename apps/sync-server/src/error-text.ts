/** What thrown values say, for logs and wrapped errors (anything can be thrown in JS). */

/** `Name: message` of an Error, or the value as text. */
export function errorText(error: unknown): string {
  return error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
}

/** The message of an Error, or the value as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The value itself if it is an Error, else an Error saying what it was. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
