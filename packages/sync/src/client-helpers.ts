/** Small helpers of the client that depend on nothing of it. */

/** The browser's window; undefined in Node and in workers. */
export function browserWindow(): Window | undefined {
  return (globalThis as { window?: Window }).window;
}

export function fieldErrorsOf(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): Record<string, string[]> {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of issues) {
    const field = issue.path.map(String).join(".");
    (fieldErrors[field] ??= []).push(issue.message);
  }
  return fieldErrors;
}
