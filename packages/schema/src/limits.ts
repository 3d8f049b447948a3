/**
 * Size limits of user-entered text, in UTF-16 code units (what `string.length` counts). They
 * bound what one mutation can write; the HTTP layer also caps request bodies (see @repo/api).
 */
export const LIMITS = {
  projectName: 120,
  projectDescription: 5_000,
  issueTitle: 300,
  issueDescription: 50_000,
  commentBody: 20_000,
  /** Fractional-index keys stay short in practice; a long one means a client bug. */
  sortKey: 128,
} as const;
