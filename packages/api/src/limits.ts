/**
 * Largest request body the API accepts, in bytes: a batch of mutations at the input size limits
 * of @repo/schema fits comfortably; anything larger is refused (413) before it is parsed. The
 * standalone server enforces it; other hosts (the Next.js route handler) should too.
 */
export const MAX_REQUEST_BYTES = 1_048_576;
