/** Postgres errors by what they say about the request that caused them (SQLSTATE classes). */

/**
 * Errors the request itself causes, which a retry would meet again: data exceptions (class 22:
 * division by zero, a value no enum label or type accepts, out of range) and syntax or access
 * rule violations (class 42).
 */
export function isCausedByRequest(
  error: unknown,
): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    error instanceof Error &&
    typeof code === "string" &&
    (code.startsWith("22") || code.startsWith("42"))
  );
}

/** SQLSTATE 42P01 (undefined_table) on the error or on what it wraps. */
export function isUndefinedTable(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause)
    if ((cause as { code?: unknown }).code === "42P01") return true;
  return false;
}
